"""The demo's transfer configs on scenes of real Fashion-MNIST garments: Faster R-CNN and PSPNet
on the small-image ResNet-18 take our checkpoints (pretraining or converted) whole, refuse a
missing or foreign one, train their heads on the frozen backbone, and report COCO AP / mIoU."""
import re

import convert_weights
import pytest
import torch
from conftest import ROOT
from mmengine.config import Config
from mmengine.runner import Runner

CONFIGS = {
    'det': ROOT / 'configs/mejigclu/benchmarks/mmdetection/faster-rcnn_r18-cifar_fpn_1xb8-6e_fashion-scenes.py',
    'seg': ROOT / 'configs/mejigclu/benchmarks/mmsegmentation/pspnet_r18-cifar_1xb8-6e_fashion-scenes.py',
}
PRETRAIN = ROOT / 'configs/mejigclu/mejigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py'
METRIC = {'det': 'val/coco/bbox_mAP', 'seg': 'val/mIoU'}


@pytest.fixture(scope='module')
def r18_checkpoints(tmp_path_factory):
    """A checkpoint as the MEJigClu Fashion-MNIST pretraining writes it (random weights, BN
    statistics made non-trivial) and the backbone file tools/convert_weights.py makes of it."""
    from mmengine.registry import init_default_scope

    import mejigclu_mm  # noqa: F401
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    state = MODELS.build(Config.fromfile(PRETRAIN).model).state_dict()
    for name, value in state.items():
        if name.endswith(('running_mean', 'running_var')):
            value.copy_(torch.rand_like(value) + 0.5)
    root = tmp_path_factory.mktemp('r18')
    src, dst = root / 'epoch_12.pth', root / 'backbone_mmdet.pth'
    torch.save({'meta': {'epoch': 12}, 'state_dict': state}, src)
    assert convert_weights.main([str(src), str(dst), '--to', 'mmdet']) == 0
    backbone = {k[len('backbone.'):]: v for k, v in state.items() if k.startswith('backbone.')}
    return dict(pretraining=src, converted=dst, backbone=backbone)


def scene_config(kind, root, work_dir, checkpoint):
    """The config on the scenes in ``root``, single-process loaders, one epoch."""
    cfg = Config.fromfile(CONFIGS[kind])
    cfg.work_dir = str(work_dir)
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[name].update(num_workers=0, persistent_workers=False, batch_size=4)
        cfg[name].dataset.data_root = f'{root}/'
    if kind == 'det':
        for name in ('val_evaluator', 'test_evaluator'):
            cfg[name].ann_file = f'{root}/annotations/val.json'
    cfg.train_cfg.update(max_epochs=1, val_interval=1)
    cfg.default_hooks.logger.interval = 1
    cfg.model.backbone.init_cfg = (None if checkpoint is None else
                                   dict(cfg.model.backbone.init_cfg, checkpoint=str(checkpoint)))
    return cfg


@pytest.mark.slow
@pytest.mark.parametrize('layout', ['pretraining', 'converted'])
@pytest.mark.parametrize('kind', ['det', 'seg'])
def test_our_checkpoints_load_whole(kind, layout, fashion_scenes_root, r18_checkpoints,
                                    tmp_path):
    cfg = scene_config(kind, fashion_scenes_root, tmp_path, r18_checkpoints[layout])
    assert cfg.model.backbone.init_cfg.type == 'StrictPretrained'
    runner = Runner.from_cfg(cfg)
    runner.model.init_weights()
    loaded = runner.model.backbone.state_dict()
    assert set(loaded) == set(r18_checkpoints['backbone'])
    for key, value in loaded.items():  # weights and BN statistics
        assert torch.equal(value, r18_checkpoints['backbone'][key]), key


@pytest.mark.slow
@pytest.mark.parametrize('kind', ['det', 'seg'])
def test_a_missing_or_foreign_checkpoint_is_refused(kind, fashion_scenes_root,
                                                    r50_pretrain_checkpoint, tmp_path):
    cfg = scene_config(kind, fashion_scenes_root, tmp_path, None)
    cfg.model.backbone.init_cfg = Config.fromfile(CONFIGS[kind]).model.backbone.init_cfg
    assert cfg.model.backbone.init_cfg.checkpoint is None  # as shipped
    with pytest.raises(ValueError, match='set model.backbone.init_cfg.checkpoint'):
        Runner.from_cfg(cfg).model.init_weights()
    cfg = scene_config(kind, fashion_scenes_root, tmp_path, r50_pretrain_checkpoint)
    refused = f'refused to initialise .* from {re.escape(str(r50_pretrain_checkpoint))}'
    with pytest.raises(ValueError, match=refused):
        Runner.from_cfg(cfg).model.init_weights()


@pytest.mark.slow
@pytest.mark.parametrize('kind', ['det', 'seg'])
def test_trains_and_evaluates_on_the_scenes(kind, fashion_scenes_root, r18_checkpoints,
                                            tmp_path):
    cfg = scene_config(kind, fashion_scenes_root, tmp_path, r18_checkpoints['converted'])
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2  # 8 training scenes, 4 per step
    # the backbone is frozen: weights and BN statistics as loaded, only the heads trained
    for key, value in runner.model.backbone.state_dict().items():
        assert torch.equal(value, r18_checkpoints['backbone'][key]), key
    trained = [p for p in runner.model.parameters() if p.requires_grad]
    assert trained and not any(p.requires_grad for p in runner.model.backbone.parameters())
    metric = runner.message_hub.log_scalars[METRIC[kind]].current()
    assert 0 <= metric <= (1 if kind == 'det' else 100)
    assert len(runner.val_dataloader.dataset) == 4
    names = runner.val_dataloader.dataset.metainfo['classes']
    assert names[-1] == 'Ankle boot' and len(names) == (10 if kind == 'det' else 11)


@pytest.mark.parametrize('kind', ['det', 'seg'])
def test_without_a_checkpoint_the_backbone_is_a_live_random_network(kind):
    """init_cfg=None (no pretraining) gives the kind of network pretraining starts from: every
    residual branch's last BN weight is 1, not mmpretrain's zero (a stem and shortcuts only)."""
    from mmengine.registry import init_default_scope

    import mejigclu_mm  # noqa: F401
    cfg = Config.fromfile(CONFIGS[kind])
    init_default_scope(cfg.default_scope)
    from mmengine.registry import MODELS
    backbone = MODELS.build(dict(cfg.model.backbone, init_cfg=None))
    backbone.init_weights()
    last_norms = [block.norm2 for layer in (backbone.layer1, backbone.layer2, backbone.layer3,
                                            backbone.layer4) for block in layer]
    assert len(last_norms) == 8 and all(torch.all(norm.weight == 1) for norm in last_norms)
