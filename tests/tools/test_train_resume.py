"""A run killed with SIGKILL in epoch 3 and resumed with --resume repeats the uninterrupted run:
the same loss at every iteration and the same weights at the end; with a fixed seed, and with
the seed unset as the shipped configs have it (the resumed run takes the checkpoint's). The runs
fork from a warm interpreter (warm_python.py); tools/train.py's start in a fresh one is
test_dist_train's."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from conftest import ROOT
from warm_python import WarmPopen

CONFIG = 'configs/jigclu/jigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py'
ITERS_PER_EPOCH = 60 // 8  # the fixture's 60 images, batch 8
# ResNet-18 at a quarter of the width (layer4: 128 channels): 10x faster steps on a CPU
SMALL_MODEL = ['model.backbone.stem_channels=16', 'model.backbone.base_channels=16',
               'model.heads.clu.in_channels=128', 'model.heads.loc.in_channels=128']


def command(work_dir, data_root, *extra, seed=0):
    options = [
        f'train_dataloader.dataset.data_root={data_root}', 'train_dataloader.batch_size=8',
        'train_dataloader.num_workers=2', 'train_dataloader.persistent_workers=True',
        'train_cfg.max_epochs=3', 'param_scheduler.0.T_max=3', 'param_scheduler.0.end=3',
        'default_hooks.checkpoint.interval=1', 'default_hooks.logger.interval=1',
        'log_processor.window_size=1', *SMALL_MODEL]
    if seed is not None:
        options.append(f'randomness.seed={seed}')
    return [sys.executable, str(ROOT / 'tools/train.py'), str(ROOT / CONFIG), '--work-dir',
            str(work_dir), *extra, '--cfg-options', *options]


def environment():
    # one thread per run: the two first runs go side by side on a 2-core machine
    return dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(ROOT))


def start(command, log):
    """``command`` forked from the warm interpreter, its output appended to ``log``."""
    with open(log, 'a') as file:
        return WarmPopen(command, stdout=file, stderr=subprocess.STDOUT, env=environment())


def output(log):
    return log.read_text(errors='replace')[-6000:]


def scalars(work_dir):
    """{iteration: logged values} over every run in ``work_dir`` (later runs win)."""
    rows = {}
    for path in sorted(work_dir.glob('*/vis_data/scalars.json')):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            if 'loss' in row:
                rows[row['step']] = row
    return rows


def run_until_killed(process, work_dir, log, epoch, timeout=300):
    """SIGKILL ``process`` once it has logged an iteration of ``epoch``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(row['epoch'] == epoch for row in scalars(work_dir).values()):
            process.send_signal(signal.SIGKILL)
            process.wait()
            return
        if process.poll() is not None:
            raise AssertionError(f'the run ended (exit {process.returncode}) before epoch '
                                 f'{epoch}:\n{output(log)}')
        time.sleep(0.02)
    process.kill()
    raise AssertionError(f'no iteration of epoch {epoch} logged in {timeout} s')


def state_dict(path):
    from mejigclu_mm.runtime import load_checkpoint_file  # safe loading with mmengine's types
    return load_checkpoint_file(path)['state_dict']


def seed_of_first_checkpoint(process, work_dir, log, timeout=300):
    """The seed a run drew, from its first checkpoint (written whole, then renamed)."""
    from mejigclu_mm.runtime import load_checkpoint_file
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (work_dir / 'epoch_1.pth').exists():
            return load_checkpoint_file(work_dir / 'epoch_1.pth')['meta']['seed']
        if process.poll() is not None:
            raise AssertionError(f'the run ended (exit {process.returncode}) before epoch 1 '
                                 f'was saved:\n{output(log)}')
        time.sleep(0.05)
    raise AssertionError(f'no epoch_1.pth in {timeout} s')


@pytest.mark.slow
@pytest.mark.parametrize('seed', [0, None], ids=['seed-0', 'seed-unset'])
def test_killed_in_epoch_3_and_resumed_equals_uninterrupted(fashion_mnist_format_root,
                                                            tmp_path, seed):
    full_dir, cut_dir = tmp_path / 'full', tmp_path / 'cut'
    cut_log, full_log, resumed_log = (tmp_path / f'{name}.log' for name in ('cut', 'full',
                                                                             'resumed'))
    cut = start(command(cut_dir, fashion_mnist_format_root, seed=seed), cut_log)
    # with the seed unset, the uninterrupted run takes the seed the cut run drew
    drawn = seed if seed is not None else seed_of_first_checkpoint(cut, cut_dir, cut_log)
    full = start(command(full_dir, fashion_mnist_format_root, seed=drawn), full_log)
    run_until_killed(cut, cut_dir, cut_log, epoch=3)
    assert full.wait(timeout=600) == 0, output(full_log)
    killed_at = max(scalars(cut_dir))
    assert 2 * ITERS_PER_EPOCH < killed_at < 3 * ITERS_PER_EPOCH  # inside epoch 3
    assert not (cut_dir / 'epoch_3.pth').exists()
    assert (cut_dir / 'epoch_2.pth').exists()

    resumed = start(command(cut_dir, fashion_mnist_format_root, '--resume', seed=seed),
                    resumed_log)
    assert resumed.wait(timeout=600) == 0, output(resumed_log)
    assert 'random states restored from the checkpoint' in resumed_log.read_text()

    expected, got = scalars(full_dir), scalars(cut_dir)
    assert sorted(got) == sorted(expected) == list(range(1, 3 * ITERS_PER_EPOCH + 1))
    for step in expected:
        for key in ('loss', 'loss_clu', 'loss_loc'):
            assert got[step][key] == pytest.approx(expected[step][key], rel=1e-6, abs=1e-7), (
                f'iteration {step} {key}')
    full_weights, resumed_weights = (state_dict(d / 'epoch_3.pth') for d in (full_dir, cut_dir))
    for name, value in full_weights.items():
        torch.testing.assert_close(resumed_weights[name], value, rtol=1e-6, atol=1e-6,
                                   msg=lambda m: f'{name}: {m}')
