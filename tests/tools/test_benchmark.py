"""tools/benchmark.py: every section runs with tiny settings and prints its table.

Timings are never asserted (shared CPU); the exchange section's byte ratios are deterministic
and are; the neck section must refuse to report a speed-up when its two implementations
disagree.
"""
import re

import pytest
import torch

import benchmark
from benchmarks import neck
from benchmarks.sections import BY_NAME

# Tiny settings per section: seconds on a 2-core CPU.
TINY = {
    'model': ['model.batch=2', 'model.image_size=32', 'model.precisions=fp32,bf16-channels-last',
              'model.steps=1', 'model.warmup=0'],
    'e2e': ['e2e.batch=2', 'e2e.patch_size=16', 'e2e.workers=0', 'e2e.steps=1', 'e2e.warmup=1',
            'e2e.model_steps=1'],
    'cpu': ['cpu.images=2', 'cpu.samples=2', 'cpu.warmup=1'],
    'photometric': ['photometric.batch=4', 'photometric.patch_size=16', 'photometric.steps=1',
                    'photometric.warmup=0'],
    'neck': ['neck.shape=2,8,7,7', 'neck.steps=1', 'neck.warmup=0'],
    'exchange': ['exchange.world_sizes=2,4', 'exchange.images_per_rank=4',
                 'exchange.patch_size=16', 'exchange.repeats=1', 'exchange.steps=1',
                 'exchange.warmup=0'],
    'channels-last': ['channels-last.pretrain_batch=2', 'channels-last.linear_batch=2',
                      'channels-last.detection_batch=1', 'channels-last.detection_size=32',
                      'channels-last.steps=1', 'channels-last.warmup=0'],
}


def run_section(name, capsys, extra=()):
    """Run one section through main(); return (exit status, printed text)."""
    status = benchmark.main(['--only', name, '--set', *TINY[name], *extra])
    return status, capsys.readouterr().out


def table_rows(text, first_header):
    """The rows (lists of cells) of the Markdown table whose first header is ``first_header``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f'| {first_header} |'))
    header = [c.strip() for c in lines[start].strip('|').split('|')]
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith('|'):
            break
        rows.append([c.strip() for c in line.strip('|').split(' | ')])
    return header, rows


def test_every_section_has_tiny_settings_and_help():
    assert set(TINY) == set(BY_NAME)
    help_text = benchmark.build_parser().format_help()
    for section in BY_NAME.values():
        assert f'{section.name}: ' in help_text
        for line in section.help_lines()[1:]:
            assert line.strip().split(' = ')[0] in help_text


def test_cuda_defaults_are_the_paper_sizes():
    model = BY_NAME['model'].default_settings('cuda')
    assert (model.depth, model.batch, model.image_size) == (50, 256, 224)
    e2e = BY_NAME['e2e'].default_settings('cuda')
    assert (e2e.depth, e2e.batch, e2e.patch_size, e2e.workers) == (50, 256, 112, 15)


def test_bad_set_is_refused_before_running():
    with pytest.raises(SystemExit, match='no setting'):
        benchmark.main(['--only', 'neck', '--set', 'neck.nonexistent=1'])
    with pytest.raises(SystemExit, match='SECTION.SETTING=VALUE'):
        benchmark.main(['--only', 'neck', '--set', 'nothing'])


def test_model_section(capsys):
    status, text = run_section('model', capsys)
    assert status == 0, text
    header, rows = table_rows(text, 'precision / layout')
    assert header == ['precision / layout', 'method', 'images/s', 'ms/step', 'peak MiB',
                      'vs limit (supervised)', 'vs MoCo v2']
    assert [row[1] for row in rows] == ['MEJigClu', 'MEJigClu w/o device aug', 'JigClu',
                                        'MoCo v2', 'supervised'] * 2
    assert [row[0] for row in rows] == ['fp32 NCHW'] * 5 + ['bf16 channels-last (autocast)'] * 5
    assert all(row[4] == 'n/a' for row in rows)  # no peak memory on the CPU
    assert all(row[5] == '1' for row in rows if row[1] == 'supervised')
    assert 'INCLUDE the device-side photometric augmentation' in text
    assert 'settings: depth=18, batch=2, image_size=32' in text


def test_e2e_section(capsys):
    status, text = run_section('e2e', capsys)
    assert status == 0, text
    header, rows = table_rows(text, 'augmentation path')
    assert header == ['augmentation path', 'images/s', 's/iteration', 'data_time share',
                      'model step images/s (same Runner)', 'e2e / model step']
    assert [row[0] for row in rows] == [
        "device augmentation (photometric_on='device', default)",
        "per-patch CPU path (photometric_on='cpu')"]
    assert all(re.fullmatch(r'\d+%', row[3]) for row in rows)
    assert 'a GPU target, not checked on cpu' in text


def test_cpu_section(capsys):
    status, text = run_section('cpu', capsys)
    assert status == 0, text
    _, rows = table_rows(text, 'pipeline (per image, decode excluded)')
    assert len(rows) == 5
    assert "interpolation='area'" in rows[1][0]
    assert rows[3][0].startswith('reference JigClu recipe') and rows[3][4] == '1.00x'
    assert rows[4][0].startswith('supervised') and rows[4][3] == '1.00x cost'
    assert 'target ours (default path) <= 1.5x the supervised cost per image' in text


def test_photometric_section(capsys):
    status, text = run_section('photometric', capsys)
    assert status == 0, text
    _, rows = table_rows(text, 'operation')
    assert [row[0] for row in rows] == ['colour jitter (p 0.8)', 'grayscale (p 0.2)',
                                        'Gaussian blur 13 x 13 (p 0.5)', 'all three']
    assert 'ONE order of the four colour operations per batch' in text


def test_neck_section_checks_agreement_first(capsys):
    threads = torch.get_num_threads()
    status, text = run_section('neck', capsys)
    assert status == 0, text
    assert 'torch threads=1' in text  # the CPU default
    assert torch.get_num_threads() == threads  # restored for the caller
    _, rows = table_rows(text, 'layout')
    assert [row[0] for row in rows] == ['NCHW', 'channels-last']
    assert all(row[3].endswith('x') for row in rows)
    assert all(float(row[4]) < 1e-5 and float(row[5]) < 1e-5 for row in rows)


def test_neck_section_refuses_a_wrong_result(capsys, monkeypatch):
    exact = neck.interpolate_then_pool
    monkeypatch.setattr(neck, 'interpolate_then_pool', lambda x, grid: exact(x, grid) * 1.01)
    status, text = run_section('neck', capsys)
    assert status == 1
    assert 'REFUSED: NCHW: DecoupleNeck and interpolate + pool disagree' in text
    _, rows = table_rows(text, 'layout')
    assert all(row[1] == 'n/a' and row[3] == 'refused' for row in rows)
    assert 'target DecoupleNeck' not in text


def test_exchange_section_byte_ratios(capsys):
    status, text = run_section('exchange', capsys)
    assert status == 0, text
    _, rows = table_rows(text, 'world size')
    ratios = {(int(row[0]), row[1].split()[0]): float(row[3]) for row in rows}
    assert set(ratios) == {(2, 'all-gather'), (2, 'all_to_all'), (4, 'all-gather'),
                           (4, 'all_to_all')}
    for world in (2, 4):
        assert ratios[world, 'all_to_all'] <= 1.2
        # all-gather delivers every rank's patches, plus the tiny permutation broadcast
        assert ratios[world, 'all-gather'] == pytest.approx(world, abs=0.1)
    _, montage_rows = table_rows(text, 'make_montages, one process')
    assert len(montage_rows) == 2


def test_channels_last_section(capsys):
    status, text = run_section('channels-last', capsys)
    assert status == 0, text
    header, rows = table_rows(text, 'workload')
    assert header == ['workload', 'NCHW s/step', 'channels-last s/step', 'speed-up']
    assert [row[0].split(':')[0] for row in rows] == ['pretrain', 'linear eval', 'detection']
