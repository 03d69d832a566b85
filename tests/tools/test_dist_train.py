"""tools/dist_train.sh CONFIG 2 trains on a machine without a GPU (gloo), and 2 processes of 4
images give the losses and weights of 1 process of 8 images."""
import json
import os
import socket
import subprocess
import sys

import pytest
import torch
from conftest import ROOT
from mmengine.config import Config

from mejigclu_mm.runtime import load_checkpoint_file

CONFIG = 'configs/mejigclu/mejigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py'
GLOBAL_BATCH, STEPS = 8, 3


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def options(data_root, processes):
    """The same global batch of 8 in the same order, whatever the number of processes: the
    DisjointSubsetBatchSampler gives rank r positions [r * 4, (r + 1) * 4) of every global
    batch, samples are seeded from (seed, epoch, index) (RandomStateHook), the patch permutation
    and the device-side photometric draws come from the preprocessor's (seed, step) generator
    and follow global patch ids, and GroupNorm, unlike BatchNorm, does not depend on how the
    batch is split."""
    per_process = GLOBAL_BATCH // processes
    return [
        f'train_dataloader.dataset.data_root={data_root}',
        f'train_dataloader.batch_size={per_process}', 'train_dataloader.num_workers=1',
        f'train_dataloader.num_batch_per_epoch={STEPS}',
        f'model.heads.cls.num_classes={GLOBAL_BATCH}',
        'model.backbone.norm_cfg.type=GN', 'model.backbone.norm_cfg.num_groups=8',
        # a quarter of ResNet-18's width (layer4: 128 channels), for CPU speed
        'model.backbone.stem_channels=16', 'model.backbone.base_channels=16',
        'model.heads.clu.in_channels=128', 'model.heads.cls.in_channels=128',
        'train_cfg.max_epochs=1', 'param_scheduler.0.T_max=1', 'param_scheduler.0.end=1',
        'default_hooks.logger.interval=1', 'log_processor.window_size=1', 'randomness.seed=0']


def logged(work_dir):
    """{iteration: logged values} of the run in ``work_dir``."""
    rows = {}
    for path in work_dir.glob('*/vis_data/scalars.json'):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            if 'loss' in row:
                rows[row['step']] = row
    return rows


def start(cmd, env):
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def finish(*processes):
    """Wait for all, then check each: no run is left behind when one fails."""
    outs = [process.communicate(timeout=600)[0] for process in processes]
    for process, out in zip(processes, outs):
        assert process.returncode == 0, out[-6000:]
    return outs


@pytest.mark.slow
def test_two_cpu_processes_through_the_launcher_match_one(fashion_mnist_format_root,
                                                           tmp_path):
    if torch.cuda.is_available():
        pytest.skip('this test checks the path without a GPU')
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(free_port()), OMP_NUM_THREADS='1')
    two = start(['bash', str(ROOT / 'tools/dist_train.sh'), str(ROOT / CONFIG), '2',
                 '--work-dir', str(tmp_path / 'two'), '--cfg-options',
                 *options(fashion_mnist_format_root, 2)], env)
    one = start([sys.executable, str(ROOT / 'tools/train.py'), str(ROOT / CONFIG),
                 '--work-dir', str(tmp_path / 'one'), '--cfg-options',
                 *options(fashion_mnist_format_root, 1)], dict(env, PYTHONPATH=str(ROOT)))
    two_out, _ = finish(two, one)
    assert 'Distributed training: True' in two_out and "'backend': 'gloo'" in two_out

    one, two = logged(tmp_path / 'one'), logged(tmp_path / 'two')
    assert sorted(one) == sorted(two) == list(range(1, STEPS + 1))
    for step in one:
        for key in ('loss', 'loss_clu', 'loss_cls'):
            assert two[step][key] == pytest.approx(one[step][key], rel=1e-5), (step, key)
    weights = [load_checkpoint_file(tmp_path / d / 'epoch_1.pth')['state_dict']
               for d in ('one', 'two')]
    print('largest loss difference, relative:',
          max(abs(two[s]['loss'] / one[s]['loss'] - 1) for s in one),
          '; weights, absolute:',
          max(float((weights[1][k] - v).abs().max()) for k, v in weights[0].items()
              if v.is_floating_point()))
    # The gradients are averaged over the ranks in another summation order than one process
    # sums its batch: the weights of the 4 steps differed by up to 2.5e-5 on an AVX-512 CPU
    # (the losses by 1e-7, relative); a gradient of the wrong scale moves them by ~1e-3.
    for name, value in weights[0].items():
        torch.testing.assert_close(weights[1][name], value, rtol=1e-4, atol=1e-4,
                                   msg=lambda m: f'{name}: {m}')


def cpu_only():
    from mmengine.device import get_device
    if get_device() != 'cpu':
        pytest.skip('this machine has an accelerator: mmengine starts the process group')


def test_without_the_launchers_environment_it_says_what_to_do(monkeypatch):
    from mejigclu_mm.runtime.cpu_distributed import init_cpu_distributed
    cpu_only()
    for key in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        monkeypatch.delenv(key, raising=False)
    cfg = Config.fromfile(ROOT / CONFIG)
    cfg.launcher = 'pytorch'
    with pytest.raises(ValueError, match='RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT are not '
                       r'set; start the processes with tools/dist_train.sh'):
        init_cpu_distributed(cfg)


def test_the_config_is_made_fit_for_cpu_processes(monkeypatch):
    """DDP without device_ids, gloo, and SyncBN (GPU only in torch) trained as BN."""
    import torch.distributed as dist

    from mejigclu_mm.runtime.cpu_distributed import init_cpu_distributed
    cpu_only()
    monkeypatch.setenv('RANK', '0')
    monkeypatch.setenv('WORLD_SIZE', '1')
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')
    monkeypatch.setenv('MASTER_PORT', str(free_port()))
    cfg = Config.fromfile(ROOT / CONFIG)
    assert cfg.model.backbone.norm_cfg.type == 'SyncBN'
    cfg.launcher = 'pytorch'
    try:
        assert init_cpu_distributed(cfg)
        assert dist.get_backend() == 'gloo'
    finally:
        dist.destroy_process_group()
    assert cfg.model.backbone.norm_cfg.type == 'BN'
    assert cfg.model_wrapper_cfg == dict(type='MMDistributedDataParallel',
                                         broadcast_buffers=False,
                                         find_unused_parameters=False, device_ids=None)
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    cfg.launcher = 'none'
    assert not init_cpu_distributed(cfg)  # a single process: nothing to do


@pytest.mark.parametrize('script, given', [('dist_train.sh', ['cfg.py']),
                                           ('slurm_train.sh', ['partition', 'job', 'cfg.py'])])
def test_a_launcher_missing_arguments_says_its_usage(script, given):
    done = subprocess.run(['bash', str(ROOT / 'tools' / script), *given], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith(f'usage: tools/{script} ')
