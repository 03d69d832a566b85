"""TensorBoard logging, the optional `tensorboard` extra: the one documented config line makes a
tiny real run write event files holding the losses and the kNN monitor's scalars."""
import json

import pytest
from conftest import ROOT

pytest.importorskip('tensorboard', reason='the tensorboard extra is not installed')

CONFIG = ROOT / 'configs/jigclu/jigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py'
# The line the README documents (mmengine's TensorboardVisBackend next to the local one).
TENSORBOARD_LINE = ("visualizer = dict(vis_backends=[dict(type='LocalVisBackend'), "
                    "dict(type='TensorboardVisBackend')])\n")
# ResNet-18 at a quarter of its width: the config's structure at a tenth of the CPU time
SMALL = ['model.backbone.stem_channels=16', 'model.backbone.base_channels=16',
         'model.heads.clu.in_channels=128', 'model.heads.loc.in_channels=128']


def event_scalars(work_dir):
    """{tag: [(step, value)]} of every TensorBoard event file below ``work_dir``."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    files = sorted(work_dir.glob('*/vis_data/events.out.tfevents.*'))
    assert files, f'no event file below {work_dir}'
    scalars = {}
    for path in files:
        events = EventAccumulator(str(path))
        events.Reload()
        for tag in events.Tags()['scalars']:
            scalars.setdefault(tag, []).extend((e.step, e.value) for e in events.Scalars(tag))
    return scalars


@pytest.mark.slow
def test_a_run_writes_losses_and_knn_scalars_to_tensorboard(fashion_mnist_format_root, tmp_path):
    import train
    config = tmp_path / 'jigclu_tensorboard.py'
    config.write_text(f"_base_ = '{CONFIG}'\n{TENSORBOARD_LINE}")
    work_dir = tmp_path / 'work_dir'
    train.main([str(config), '--work-dir', str(work_dir), '--cfg-options',
                f'train_dataloader.dataset.data_root={fashion_mnist_format_root}',
                'train_dataloader.batch_size=8', 'train_dataloader.num_workers=0',
                'train_dataloader.persistent_workers=False', 'train_cfg.max_epochs=1',
                'param_scheduler.0.T_max=1', 'param_scheduler.0.end=1',
                'default_hooks.logger.interval=1', 'randomness.seed=0', *SMALL])
    scalars = event_scalars(work_dir)
    # the kNN monitor (the config's KNNMonitorHook, after the last epoch) and the losses
    assert {'knn/top1_k20', 'knn/top1_k200', 'loss', 'loss_clu', 'loss_loc', 'lr'} <= set(scalars)
    assert len(scalars['loss']) == 60 // 8  # one per iteration (logger interval 1)
    # the same values as the local backend's scalars.json
    (local, ) = work_dir.glob('*/vis_data/scalars.json')
    records = [json.loads(line) for line in local.read_text().splitlines()]
    knn = [r for r in records if 'knn/top1_k20' in r]
    assert [(r['step'], pytest.approx(r['knn/top1_k20'], abs=1e-4)) for r in knn] == \
        scalars['knn/top1_k20']
    assert 0 <= scalars['knn/top1_k20'][0][1] <= 100
