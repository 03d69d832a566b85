"""tools/train.py runs the small real-data pretraining configs; its options build the config."""
import math

import numpy as np
import pytest

from conftest import ROOT

# ResNet-18 at a quarter of its width (layer4: 128 channels): the configs' structure at a tenth
# of the CPU time
SMALL = ['model.backbone.stem_channels=16', 'model.backbone.base_channels=16']
SMALL_HEADS = {'mejigclu': ['model.heads.clu.in_channels=128', 'model.heads.cls.in_channels=128'],
               'jigclu': ['model.heads.clu.in_channels=128', 'model.heads.loc.in_channels=128'],
               'moco': ['model.neck.in_channels=128']}

CONFIGS = {
    'mejigclu': 'configs/pretrain/mejigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py',
    'jigclu': 'configs/pretrain/jigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py',
}


def train(config, data_root, work_dir, extra=(), batch_options=None):
    import train as train_tool
    batch = batch_options(config, 8) if batch_options else ['train_dataloader.batch_size=8']
    options = [
        f'train_dataloader.dataset.data_root={data_root}', *batch,
        'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
        'train_cfg.max_epochs=4', 'param_scheduler.0.T_max=4', 'param_scheduler.0.end=4',
        'default_hooks.logger.interval=1', 'randomness.seed=0', *extra]
    return train_tool.main([str(ROOT / config), '--work-dir', str(work_dir), '--cfg-options',
                            *options])


@pytest.mark.parametrize('name', ['mejigclu', 'jigclu'])
def test_a_few_iterations_on_real_images(name, fashion_mnist_format_root, tmp_path,
                                         batch_options):
    """What cannot flip with BLAS, thread count or a library's patch version: the number of
    steps, finite losses, chance-level losses before the first update (a fact about the
    initialisation, with a wide margin), the learning rate of every step (the cosine schedule,
    exact arithmetic), weights that moved, and the checkpoints. Whether 28 CPU steps already
    lower the loss is not asserted: it is a small difference that drifts with all of these."""
    import torch
    runner = train(CONFIGS[name], fashion_mnist_format_root, tmp_path,
                   ['default_hooks.checkpoint.interval=2', *SMALL, *SMALL_HEADS[name]],
                   batch_options)
    hub = runner.message_hub
    totals = np.asarray(hub.get_scalar('train/loss').data[0])
    assert len(totals) == 28  # 60 images // 8 per batch = 7 iterations x 4 epochs
    assert np.all(np.isfinite(totals))
    first = {k: hub.get_scalar(f'train/{k}').data[0][0] for k in ('loss_clu', 'loss_cls',
                                                                    'loss_loc')
             if f'train/{k}' in hub.log_scalars}
    n = 8
    # Before any update: the clustering loss is (T / T_base) log(4n - 1) whenever the embeddings
    # are alike (untrained ones are), whatever their values; the classification / location
    # losses are cross-entropies over n / 4 classes near chance (only near: the logits of a
    # random head are not 0, so a wide band).
    assert first['loss_clu'] == pytest.approx((0.3 / 0.07) * math.log(4 * n - 1), rel=0.1)
    if name == 'mejigclu':
        assert first['loss_cls'] == pytest.approx(math.log(n), rel=0.5)
    else:
        assert first['loss_loc'] == pytest.approx(math.log(4), rel=0.5)
    # SGD lr 0.03, cosine to 0 over 4 epochs, stepped per epoch (by_epoch=True)
    lrs = np.asarray(hub.get_scalar('train/lr').data[0])
    expected = [0.03 * (1 + math.cos(math.pi * (i // 7) / 4)) / 2 for i in range(28)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-9)
    assert (tmp_path / 'epoch_4.pth').exists()  # the last epoch is always saved
    assert (tmp_path / 'last_checkpoint').read_text().strip() == str(tmp_path / 'epoch_4.pth')
    weights = [torch.load(tmp_path / f'epoch_{e}.pth', weights_only=True)['state_dict']
               for e in (2, 4)]
    moved = [k for k, v in weights[0].items() if v.is_floating_point()
             and not torch.equal(v, weights[1][k])]
    assert any(k.startswith('backbone.') for k in moved)
    assert any(k.startswith('heads.') for k in moved)


def test_mocov2_peer_config_trains_and_converts(fashion_mnist_format_root, tmp_path):
    """The MoCo v2 row of `make demo`: mmpretrain's MoCo on the same data and backbone trains
    through tools/train.py, and its query encoder (not the momentum encoder) is what the
    converter hands to mmdet."""
    import torch
    import convert_weights
    config = 'configs/pretrain/mocov2_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py'
    runner = train(config, fashion_mnist_format_root, tmp_path / 'moco',
                   [*SMALL, *SMALL_HEADS['moco']])
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


def merged(argv):
    import train as train_tool
    from mmengine.config import Config
    args = train_tool.parse_args(argv)
    return train_tool.merge_args(Config.fromfile(args.config), args)


@pytest.mark.parametrize('flags, dtype', [(['--amp'], None),
                                          (['--amp-dtype', 'float16'], 'float16'),
                                          (['--amp-dtype', 'bfloat16'], 'bfloat16'),
                                          (['--amp', '--amp-dtype', 'bfloat16'], 'bfloat16')])
def test_amp_options_give_mmengines_amp_optim_wrapper(flags, dtype):
    cfg = merged([str(ROOT / CONFIGS['mejigclu']), *flags])
    wrapper = cfg.optim_wrapper
    assert wrapper.type == 'AmpOptimWrapper' and wrapper.loss_scale == 'dynamic'
    assert wrapper.get('dtype') == dtype  # None: autocast's default, float16 on CUDA
    assert wrapper.optimizer.type == 'SGD'  # the config's optimizer is kept


def test_amp_without_a_gpu_is_refused_with_what_to_do(tmp_path):
    import train as train_tool
    from mmengine.device import get_device
    if get_device() != 'cpu':
        pytest.skip('this machine has an accelerator: AMP runs here')
    with pytest.raises(SystemExit, match=r'--amp / --amp-dtype \(bfloat16\) needs a GPU.*'
                       'Train without --amp'):
        train_tool.main([str(ROOT / CONFIGS['mejigclu']), '--work-dir', str(tmp_path),
                         '--amp-dtype', 'bfloat16'])


def test_every_run_gets_the_random_state_and_dataloader_check_hooks():
    cfg = merged([str(ROOT / CONFIGS['jigclu'])])
    assert [h['type'] for h in cfg.custom_hooks] == ['ChannelsLastHook',  # the config's own
                                                     'KNNMonitorHook',
                                                     'mmpretrain.RandomStateHook',
                                                     'mmpretrain.DataloaderCheckHook']
    # a config's own entries are kept and not doubled
    import train as train_tool
    cfg.custom_hooks = [dict(type='ChannelsLastHook'),
                        dict(type='RandomStateHook', seed_samples=False)]
    cfg = train_tool.add_hooks(cfg)
    assert [h['type'] for h in cfg.custom_hooks] == ['ChannelsLastHook', 'RandomStateHook',
                                                     'mmpretrain.DataloaderCheckHook']
