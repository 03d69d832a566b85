"""tools/benchmark.py: every section runs with tiny sizes and prints its table of ratios.

Timings are never asserted (shared CPU): the tests check that every row is measured, that the
ratio columns are the ratios of the measured rates, and that bad options are refused.
"""
import benchmark
import pytest

TINY = {
    'model': ['model.batch=2', 'model.image_size=64', 'model.steps=1', 'model.warmup=0',
              'model.precisions=[fp32,bf16+channels-last]'],
    'e2e': ['e2e.batch=2', 'e2e.patch_size=32', 'e2e.workers=0', 'e2e.steps=1', 'e2e.warmup=1'],
    'cpu': ['cpu.images=2', 'cpu.samples=2', 'cpu.warmup=1'],
}


def table(text, first_header):
    """Rows (lists of cells) of the Markdown table whose first header is ``first_header``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f'| {first_header} |'))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith('|'):
            break
        rows.append([cell.strip() for cell in line.strip('|').split(' | ')])
    return rows


def run(name, capsys):
    assert benchmark.main(['--only', name, '--options', *TINY[name]]) == 0
    return capsys.readouterr().out


def test_cuda_sizes_are_the_papers():
    sizes = benchmark.sizes_for('cuda', {})
    assert (sizes.model.depth, sizes.model.batch, sizes.model.image_size) == (50, 256, 224)
    assert (sizes.e2e.patch_size, sizes.e2e.workers) == (112, 15)


def test_unknown_options_are_refused_before_timing():
    with pytest.raises(SystemExit, match="unknown option 'model.bach'.*model.batch"):
        benchmark.main(['--only', 'model', '--options', 'model.bach=2'])


@pytest.mark.slow
def test_model_section_ratios_are_those_of_the_measured_rates(capsys):
    rows = table(run('model', capsys), 'precision')
    assert [(r[0], r[1]) for r in rows] == [
        (p, m) for p in ('fp32', 'bf16+channels-last')
        for m in ('MEJigClu', 'JigClu', 'MoCo v2', 'supervised')]
    for precision in ('fp32', 'bf16+channels-last'):
        ms = {r[1]: float(r[3]) for r in rows if r[0] == precision}
        for row in (r for r in rows if r[0] == precision):
            assert row[4] == 'n/a'  # no peak memory on the CPU
            assert float(row[2]) == pytest.approx(2 / (ms[row[1]] / 1000), rel=0.01, abs=0.051)
            assert float(row[5][:-1]) == pytest.approx(ms['supervised'] / ms[row[1]], abs=0.006)
            assert float(row[6][:-1]) == pytest.approx(ms['MoCo v2'] / ms[row[1]], abs=0.006)


@pytest.mark.slow
def test_e2e_section_runs_both_places_of_the_recipe(capsys):
    text = run('e2e', capsys)
    rows = table(text, 'photometric recipe')
    assert [r[0] for r in rows] == ['device', 'cpu']
    assert all(r[2].endswith('%') and float(r[1]) > 0 and float(r[3]) > 0 for r in rows)
    assert 'mejigclu_resnet50_4xb64-coslr-200e_in1k.py through tools/train.py' in text


@pytest.mark.slow
def test_cpu_section_compares_with_the_reference_and_supervised(capsys):
    rows = table(run('cpu', capsys), 'pipeline (per image, decode excluded)')
    assert len(rows) == 5
    assert rows[3][0].startswith('reference') and rows[3][4] == '1.00x'
    assert rows[4][0].startswith('supervised') and rows[4][3] == '1.00x'
