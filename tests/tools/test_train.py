"""tools/train.py runs the small real-data pretraining configs: losses finite and falling."""
import math

import numpy as np
import pytest

from conftest import ROOT

CONFIGS = {
    'mejigclu': 'configs/pretrain/mejigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py',
    'jigclu': 'configs/pretrain/jigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py',
}


def train(config, data_root, work_dir, extra=()):
    import train as train_tool
    options = [
        f'train_dataloader.dataset.data_root={data_root}', 'train_dataloader.batch_size=8',
        'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
        'train_cfg.max_epochs=4', 'param_scheduler.0.T_max=4', 'param_scheduler.0.end=4',
        'default_hooks.logger.interval=1', 'randomness.seed=0', *extra]
    return train_tool.main([str(ROOT / config), '--work-dir', str(work_dir), '--cfg-options',
                            *options])


@pytest.mark.parametrize('name', ['mejigclu', 'jigclu'])
def test_a_few_iterations_on_real_images(name, fashion_mnist_format_root, tmp_path, capsys):
    extra = ['model.heads.cls.num_classes=8'] if name == 'mejigclu' else []
    runner = train(CONFIGS[name], fashion_mnist_format_root, tmp_path, extra)
    hub = runner.message_hub
    totals = hub.get_scalar('train/loss').data[0]
    assert len(totals) == 28  # 60 images // 8 per batch = 7 iterations x 4 epochs
    assert np.all(np.isfinite(totals))
    assert totals[-7:].mean() < totals[:7].mean()  # last epoch below the first
    first = {k: hub.get_scalar(f'train/{k}').data[0][0] for k in ('loss_clu', 'loss_cls',
                                                                    'loss_loc')
             if f'train/{k}' in hub.log_scalars}
    n = 8
    assert first['loss_clu'] == pytest.approx((0.3 / 0.07) * math.log(4 * n - 1), rel=0.15)
    if name == 'mejigclu':
        assert first['loss_cls'] == pytest.approx(math.log(n), rel=0.15)
    else:
        assert first['loss_loc'] == pytest.approx(math.log(4), rel=0.15)
    print(f'{name} first-iteration losses: {first}')
    assert (tmp_path / 'epoch_4.pth').exists()  # the last epoch is always saved
    assert (tmp_path / 'last_checkpoint').read_text().strip() == str(tmp_path / 'epoch_4.pth')


def test_mocov2_peer_config_trains_and_converts(fashion_mnist_format_root, tmp_path):
    """The MoCo v2 row of `make demo`: mmpretrain's MoCo on the same data and backbone trains
    through tools/train.py, and its query encoder (not the momentum encoder) is what the
    converter hands to mmdet."""
    import torch
    import convert_weights
    config = 'configs/pretrain/mocov2_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py'
    runner = train(config, fashion_mnist_format_root, tmp_path / 'moco')
    losses = runner.message_hub.get_scalar('train/loss').data[0]
    assert len(losses) == 28 and np.all(np.isfinite(losses))
    model = runner.model
    # The queue took 28 batches of 8 keys: 224 of its 4096 slots were written.
    assert int(model.queue_ptr) == 28 * 8
    checkpoint = torch.load(tmp_path / 'moco' / 'epoch_4.pth', weights_only=True)['state_dict']
    dst = tmp_path / 'moco_mmdet.pth'
    assert convert_weights.main([str(tmp_path / 'moco' / 'epoch_4.pth'), str(dst),
                                 '--to', 'mmdet']) == 0
    converted = torch.load(dst, weights_only=True)['state_dict']
    assert len(converted) == len(model.backbone.state_dict())
    for key, value in converted.items():
        assert torch.equal(value, checkpoint[f'backbone.{key}']), key
    # The two encoders differ after training (the momentum encoder, mmpretrain's encoder_k,
    # moves 0.1 % per step), so the comparison above tells which one was converted.
    query = checkpoint['backbone.conv1.weight']
    key = checkpoint['encoder_k.module.0.conv1.weight']
    assert not torch.equal(query, key)
