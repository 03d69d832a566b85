"""The supplementary's segmentation protocol (PSPNet-50 on Pascal VOC 2012 + the augmented set):
the recipe's numbers, our ResNet-50 checkpoints loaded whole into a backbone without the deep
stem, and a training step with both learning rates on real images in the VOC layout."""
import convert_weights
import pytest
import torch
from conftest import ROOT
from mmengine.config import Config
from mmengine.runner import Runner

CONFIG = ROOT / 'configs/mejigclu/benchmarks/mmsegmentation/pspnet_r50_syncbn_4xb2-100e_voc12aug-512x512.py'


def test_the_supplementary_recipe():
    cfg = Config.fromfile(CONFIG)
    backbone = cfg.model.backbone
    assert backbone.type == 'ResNet' and backbone.depth == 50 and not backbone.deep_stem
    assert backbone.init_cfg.type == 'StrictPretrained' and cfg.model.pretrained is None
    assert {backbone.norm_cfg.type, cfg.model.decode_head.norm_cfg.type} == {'SyncBN'}
    assert cfg.model.decode_head.type == 'PSPHead' and cfg.model.decode_head.num_classes == 21
    assert cfg.train_dataloader.batch_size == 2  # x 4 GPUs = 8
    datasets = cfg.train_dataloader.dataset.datasets  # VOC 2012 train + the augmented set
    assert [d.ann_file for d in datasets] == ['ImageSets/Segmentation/train.txt',
                                              'ImageSets/Segmentation/aug.txt']
    assert cfg.train_cfg.type == 'EpochBasedTrainLoop' and cfg.train_cfg.max_epochs == 100
    assert cfg.optim_wrapper.optimizer.lr == 0.01  # the heads
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys == {'backbone': dict(lr_mult=0.1)}
    (poly, ) = cfg.param_scheduler
    assert poly.type == 'PolyLR' and poly.eta_min == 0 and poly.end == 100
    assert cfg.val_evaluator.type == 'IoUMetric'


def small(cfg, root, work_dir):
    """The config on the VOC-layout folder ``root``, 64 px crops, one step, one process."""
    cfg.work_dir = str(work_dir)
    crop = (64, 64)
    cfg.model.data_preprocessor.size = crop
    for dataset in cfg.train_dataloader.dataset.datasets:
        dataset.update(data_root=str(root), indices=1)
        for transform in dataset.pipeline:
            if transform.type == 'RandomResize':
                transform.scale = (128, 64)
            elif transform.type in ('RandomCrop', 'Pad'):
                transform[{'RandomCrop': 'crop_size', 'Pad': 'size'}[transform.type]] = crop
    cfg.val_dataloader.dataset.update(data_root=str(root), indices=2)
    cfg.val_dataloader.dataset.pipeline[1].scale = (128, 64)
    cfg.test_dataloader = cfg.val_dataloader
    for name in ('train_dataloader', 'val_dataloader'):
        cfg[name].update(num_workers=0, persistent_workers=False)
    cfg.train_cfg.update(max_epochs=1, val_interval=1)
    cfg.default_hooks.logger.interval = 1
    return cfg


@pytest.mark.slow
@pytest.mark.parametrize('layout', ['pretraining', 'converted'])
def test_our_resnet50_checkpoints_load_whole_and_train(layout, r50_pretrain_checkpoint,
                                                      voc_segmentation_root, tmp_path):
    checkpoint = str(r50_pretrain_checkpoint)
    if layout == 'converted':
        checkpoint = str(tmp_path / 'r50_mmdet.pth')
        assert convert_weights.main([str(r50_pretrain_checkpoint), checkpoint,
                                     '--to', 'mmdet']) == 0
    cfg = small(Config.fromfile(CONFIG), voc_segmentation_root, tmp_path / 'work')
    cfg.model.backbone.init_cfg.checkpoint = checkpoint
    runner = Runner.from_cfg(cfg)
    runner.model.init_weights()
    pretrained = {k[len('backbone.'):]: v for k, v in
                  torch.load(r50_pretrain_checkpoint, weights_only=True)['state_dict'].items()
                  if k.startswith('backbone.')}
    loaded = runner.model.backbone.state_dict()
    assert set(loaded) == set(pretrained)  # the 7 x 7 stem included: nothing left random
    for key, value in loaded.items():
        assert torch.equal(value, pretrained[key]), key
    if layout == 'converted':
        return
    runner.train()
    assert runner.iter == 1  # one image of train.txt and one of aug.txt, 2 per step
    names = {id(p): n for n, p in runner.model.named_parameters()}
    for group in runner.optim_wrapper.optimizer.param_groups:
        for param in group['params']:
            expected = 1e-3 if names[id(param)].startswith('backbone.') else 1e-2
            assert group['initial_lr'] == pytest.approx(expected), names[id(param)]
    assert 0 <= runner.message_hub.log_scalars['val/mIoU'].current() <= 100


@pytest.mark.slow
def test_a_missing_or_foreign_checkpoint_is_refused(voc_segmentation_root, tmp_path):
    cfg = small(Config.fromfile(CONFIG), voc_segmentation_root, tmp_path)
    with pytest.raises(ValueError, match='set model.backbone.init_cfg.checkpoint'):
        Runner.from_cfg(cfg).model.init_weights()
    from mmengine.registry import init_default_scope

    import mejigclu_mm  # noqa: F401
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    r18 = Config.fromfile(
        ROOT / 'configs/jigclu/jigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py')
    foreign = tmp_path / 'r18.pth'
    torch.save({'state_dict': MODELS.build(r18.model).state_dict()}, foreign)
    cfg.model.backbone.init_cfg.checkpoint = str(foreign)
    with pytest.raises(ValueError, match=f'refused to initialise .* from {foreign}'):
        Runner.from_cfg(cfg).model.init_weights()
