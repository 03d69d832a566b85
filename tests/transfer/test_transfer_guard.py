"""The transfer guard (issue 26.5): the detector's backbone against the checkpoint's network on
a real photo; refused with the setting at fault named, the shipped transfer configs pass."""
import pytest
import torch
from conftest import ROOT
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mejigclu_mm  # noqa: F401
from mejigclu_mm.transfer import check_transfer_model
from mejigclu_mm.transfer.transfer_guard import Preprocessing, pipeline_loads_bgr, train_pipeline

BENCH = ROOT / 'configs/mejigclu/benchmarks'
PRETRAIN = ROOT / 'configs/mejigclu/mejigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py'
R50_CONFIGS = ['mmdetection/faster-rcnn_r50_fpn_syncbn_1x_coco.py',
               'mmdetection/faster-rcnn_r50_fpn_syncbn_24k_voc0712.py',
               'mmdetection/faster-rcnn_r50_fpn_syncbn_4xb2-12e-steps8-10_coco.py',
               'mmsegmentation/pspnet_r50_syncbn_4xb2-100e_voc12aug-512x512.py']
R18_CONFIGS = ['mmdetection/faster-rcnn_r18-cifar_fpn_1xb4-12e_deepforest.py',
               'mmdetection/faster-rcnn_r18-cifar_fpn_1xb8-6e_fashion-scenes.py',
               'mmsegmentation/pspnet_r18-cifar_1xb8-6e_fashion-scenes.py']


@pytest.fixture(scope='module')
def fashion_pretraining(tmp_path_factory):
    """A Fashion-MNIST pretraining checkpoint with its config in meta, as mmengine saves it."""
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    torch.manual_seed(1)
    cfg = Config.fromfile(PRETRAIN)
    path = tmp_path_factory.mktemp('guard') / 'epoch_1.pth'
    torch.save({'meta': {'cfg': cfg.pretty_text},
                'state_dict': MODELS.build(cfg.model).state_dict()}, path)
    return str(path)


def built(config, checkpoint, **options):
    """The config's model with its backbone initialised from ``checkpoint`` (StrictPretrained)."""
    cfg = Config.fromfile(BENCH / config)
    cfg.merge_from_dict(options)
    cfg.model.backbone.init_cfg = dict(type='StrictPretrained', checkpoint=str(checkpoint))
    scope = cfg.get('default_scope', 'mmpretrain')
    init_default_scope(scope)
    registry = __import__(f'{scope}.registry', fromlist=['MODELS']).MODELS
    model = registry.build(cfg.model)
    model.init_weights()
    return model, pipeline_loads_bgr(train_pipeline(cfg))


def verdict(config, checkpoint, photo, pretraining=None, **options):
    model, loads_bgr = built(config, checkpoint, **options)
    return check_transfer_model(model, str(checkpoint), str(photo), loads_bgr=loads_bgr,
                                pretraining=pretraining)


@pytest.fixture(scope='module')
def r50_checkpoint(tmp_path_factory):
    """A ResNet-50 pretraining checkpoint (``backbone.*``) whose BN statistics are those of real
    photos, so that its stage-4 features are neither zero nor exploding (export_sources)."""
    from export_sources import backbone_state, source_resnet50
    path = tmp_path_factory.mktemp('guard_r50') / 'epoch_200.pth'
    state = backbone_state(source_resnet50())
    torch.save({'meta': {'epoch': 200}, 'state_dict': {f'backbone.{k}': v
                                                       for k, v in state.items()}}, path)
    return path


@pytest.fixture(scope='module')
def photo(imagenet_images):
    return imagenet_images[0]


@pytest.mark.parametrize('config', R50_CONFIGS)
def test_the_shipped_r50_transfer_configs_pass(config, r50_checkpoint, photo):
    result = verdict(config, r50_checkpoint, photo)
    assert result.ok, result.text()
    assert result.stage == (2 if 'pspnet' in config else 4)  # PSPNet dilates stages 3-4


@pytest.fixture(scope='module')
def grey_photo():
    """A real Fashion-MNIST image: what the scenes are made of (the hook takes the run's own)."""
    from conftest import real_image_paths
    return real_image_paths('fashionMNIST')[0]


@pytest.mark.parametrize('config', R18_CONFIGS)
def test_the_shipped_r18_transfer_configs_pass(config, fashion_pretraining, photo, grey_photo):
    assert pipeline_loads_bgr(train_pipeline(Config.fromfile(BENCH / config)))
    result = verdict(config, fashion_pretraining, photo if 'deepforest' in config else grey_photo)
    if 'deepforest' in config:  # colour photos normalised as ImageNet's, on purpose
        assert not result.ok and 'mean / std scale' in result.text()
        assert Config.fromfile(BENCH / config).custom_hooks[-1]['allow_mismatch'] is True
    else:
        assert result.ok, result.text()


def test_bgr_input_is_refused_naming_the_channel_order(r50_checkpoint, photo):
    result = verdict(R50_CONFIGS[0], r50_checkpoint, photo,
                     **{'model.data_preprocessor.bgr_to_rgb': False})
    assert not result.ok
    assert len(result.faults) == 1 and result.faults[0].startswith(
        'channel order: the detector\'s backbone sees BGR')


def test_caffe_mean_and_std_are_refused_naming_the_scale(r50_checkpoint, photo):
    result = verdict(R50_CONFIGS[0], r50_checkpoint, photo, **{
        'model.data_preprocessor.mean': [103.53, 116.28, 123.675],
        'model.data_preprocessor.std': [1.0, 1.0, 1.0],
        'model.data_preprocessor.bgr_to_rgb': False})
    assert not result.ok and 'mean / std scale' in result.text()
    assert 'std [1.0, 1.0, 1.0]' in result.text()


def test_caffe_style_stride_is_refused_naming_the_stride_placement(r50_checkpoint, photo):
    result = verdict(R50_CONFIGS[0], r50_checkpoint, photo,
                     **{'model.backbone.style': 'caffe'})
    assert not result.ok and result.faults[0].startswith("stride placement: the detector's "
                                                         "blocks are style='caffe'")


def test_frozen_bn_statistics_not_the_checkpoints_are_named(r50_checkpoint, photo):
    model, loads_bgr = built(R50_CONFIGS[0], r50_checkpoint)
    model.backbone.bn1.reset_running_stats()
    result = check_transfer_model(model, str(r50_checkpoint), str(photo))
    assert not result.ok and 'BN statistics' in result.text() and 'bn1.running_mean' in \
        result.text()


def test_a_converted_file_is_compared_with_the_stated_pretraining_input(fashion_pretraining,
                                                                        grey_photo, tmp_path):
    photo = grey_photo
    import convert_weights
    converted = tmp_path / 'backbone.pth'
    assert convert_weights.main([fashion_pretraining, str(converted), '--to', 'mmdet']) == 0
    config = R18_CONFIGS[1]
    stated = Preprocessing(rgb=True, mean=(72.94,) * 3, std=(90.02,) * 3)
    assert verdict(config, converted, photo, stated).ok
    # without the statement the file is taken as torchvision's: the grey mean / std is named
    assert 'mean / std scale' in verdict(config, converted, photo).text()


def test_the_hook_stops_the_run_unless_the_user_means_it(r50_checkpoint, photo):
    from types import SimpleNamespace

    from mejigclu_mm.transfer import TransferGuardError, TransferGuardHook
    options = {'model.data_preprocessor.bgr_to_rgb': False}
    model, _ = built(R50_CONFIGS[0], r50_checkpoint, **options)
    cfg = Config.fromfile(BENCH / R50_CONFIGS[0])
    runner = SimpleNamespace(model=model, cfg=cfg)  # no train_dataloader: the photo is given
    with pytest.raises(TransferGuardError, match='(?s)channel order.*allow_mismatch=True'):
        TransferGuardHook(image=str(photo)).before_train(runner)
    TransferGuardHook(image=str(photo), allow_mismatch=True).before_train(runner)
    assert {'type': 'mmpretrain.TransferGuardHook'} in cfg.custom_hooks
