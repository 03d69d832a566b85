"""The strict 'StrictPretrained' initializer, through the real linear and detection configs."""
import pickle

import pytest
import torch
from conftest import ROOT
from mmengine.config import Config
from mmengine.model.weight_init import PretrainedInit
from mmengine.registry import WEIGHT_INITIALIZERS, init_default_scope

import mejigclu_mm  # noqa: F401
from mejigclu_mm.transfer.strict_pretrained import PretrainedCheckpointError, StrictPretrainedInit

PRETRAIN = ROOT / 'configs/mejigclu/mejigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py'
LINEAR = ROOT / 'configs/mejigclu/benchmarks/resnet18-cifar_1xb256-linear-steplr-100e_fashion-mnist.py'
DET = ROOT / 'configs/mejigclu/benchmarks/mmdetection/faster-rcnn_r18-cifar_fpn_1xb4-12e_deepforest.py'
DET_R50 = ROOT / 'configs/mejigclu/benchmarks/mmdetection/faster-rcnn_r50_fpn_syncbn_1x_coco.py'


@pytest.fixture(scope='module')
def r18_pretrain_state():
    """The state dict of the Fashion-MNIST MEJigClu pretraining model (backbone., neck., heads.)."""
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    state = MODELS.build(Config.fromfile(PRETRAIN).model).state_dict()
    for name, value in state.items():  # BN statistics that a random init would not have
        if name.endswith('running_var'):
            value.copy_(torch.rand_like(value) + 0.5)
    return state


def save(path, state):
    torch.save({'meta': {'epoch': 1}, 'state_dict': state}, path)
    return str(path)


def without(state, start):
    return {k: v for k, v in state.items() if not k.startswith(start)}


def backbone_of(state):
    return {k[len('backbone.'):]: v for k, v in state.items() if k.startswith('backbone.')}


def build_linear(checkpoint):
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(LINEAR)
    if checkpoint is not ...:
        cfg.model.backbone.init_cfg.checkpoint = checkpoint
    init_default_scope('mmpretrain')
    return MODELS.build(cfg.model)


def build_detector(checkpoint, config=DET):
    from mmdet.registry import MODELS
    cfg = Config.fromfile(config)  # custom_imports: mejigclu_mm, mmpretrain.models
    cfg.model.backbone.init_cfg.checkpoint = checkpoint
    init_default_scope('mmdet')
    return MODELS.build(cfg.model)


def assert_backbone_is(model, expected):
    loaded = model.backbone.state_dict()
    assert set(loaded) == set(expected)
    for key, value in loaded.items():
        assert torch.equal(value, expected[key]), key


def test_it_is_registered_under_its_own_name():
    assert WEIGHT_INITIALIZERS.get('StrictPretrained') is StrictPretrainedInit
    assert WEIGHT_INITIALIZERS.get('Pretrained') is PretrainedInit  # mmengine's, untouched


def test_linear_config_as_shipped_says_how_to_set_the_checkpoint():
    model = build_linear(...)  # checkpoint=None, as configs/mejigclu/benchmarks ship
    with pytest.raises(PretrainedCheckpointError) as error:
        model.init_weights()
    assert 'set model.backbone.init_cfg.checkpoint' in str(error.value)
    assert '--cfg-options model.backbone.init_cfg.checkpoint=PATH' in str(error.value)
    assert 'model.backbone.init_cfg=None' in str(error.value)


def test_linear_config_loads_a_complete_pretraining_checkpoint(r18_pretrain_state, tmp_path):
    model = build_linear(save(tmp_path / 'epoch_2.pth', r18_pretrain_state))
    model.init_weights()
    assert_backbone_is(model, backbone_of(r18_pretrain_state))


def test_linear_config_refuses_a_backbone_with_missing_keys(r18_pretrain_state, tmp_path):
    path = save(tmp_path / 'partial.pth', without(r18_pretrain_state, 'backbone.layer4.1.'))
    model = build_linear(path)
    with pytest.raises(PretrainedCheckpointError) as error:
        model.init_weights()
    message = str(error.value)
    assert f'refused to initialise ResNet_CIFAR from {path}' in message
    assert '10 of its 100 tensors are missing' in message
    assert 'layer4.1.conv1.weight' in message and '(closest: under "backbone.")' in message


def test_linear_config_takes_a_converted_backbone_too(r18_pretrain_state, tmp_path):
    path = save(tmp_path / 'converted.pth', backbone_of(r18_pretrain_state))
    model = build_linear(path)
    model.init_weights()
    assert_backbone_is(model, backbone_of(r18_pretrain_state))


def test_det_config_converts_an_unconverted_pretraining_checkpoint(r18_pretrain_state, tmp_path,
                                                                   monkeypatch):
    from mejigclu_mm.transfer import strict_pretrained
    logged = []
    monkeypatch.setattr(strict_pretrained, 'print_log', lambda msg, **kw: logged.append(msg))
    path = save(tmp_path / 'epoch_2.pth', r18_pretrain_state)
    detector = build_detector(path)
    detector.init_weights()
    assert_backbone_is(detector, backbone_of(r18_pretrain_state))
    assert any(f'{path}: ResNet_CIFAR takes the 120 tensors under "backbone."' in m
               and 'heads.* (8 tensors)' in m for m in logged), logged


@pytest.mark.parametrize('layout', ['converted', 'pretraining'])
def test_det_config_refuses_a_backbone_with_missing_keys(layout, r18_pretrain_state, tmp_path):
    state = without(r18_pretrain_state, 'backbone.layer2.0.downsample.')
    if layout == 'converted':
        state = backbone_of(state)
    path = save(tmp_path / f'{layout}.pth', state)
    detector = build_detector(path)
    with pytest.raises(PretrainedCheckpointError, match='layer2.0.downsample.0.weight') as error:
        detector.init_weights()
    assert f'from {path}' in str(error.value)
    assert '5 of its 100 tensors are missing' in str(error.value)


def test_det_config_with_mmdets_resnet_converts_too(r50_pretrain_checkpoint):
    from mmdet.registry import MODELS
    cfg = Config.fromfile(DET_R50)
    cfg.model.backbone.init_cfg.checkpoint = str(r50_pretrain_checkpoint)
    init_default_scope('mmdet')
    backbone = MODELS.build(cfg.model.backbone)  # mmdet's ResNet-50
    backbone.init_weights()
    source = backbone_of(torch.load(r50_pretrain_checkpoint, weights_only=True)['state_dict'])
    for key, value in backbone.state_dict().items():
        assert torch.equal(value, source[key]), key


def test_a_file_of_another_depth_is_refused_with_its_shapes(tmp_path):
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    wide = {f'backbone.{k}': v for k, v in
            MODELS.build(dict(type='ResNet_CIFAR', depth=50)).state_dict().items()}
    path = save(tmp_path / 'r50.pth', wide)
    with pytest.raises(PretrainedCheckpointError, match='have another shape: layer1.0.conv1'):
        build_linear(path).init_weights()


def built_backbone_file(path, type_, depth):
    """A checkpoint of a real built mmpretrain ResNet of ``depth`` under ``backbone.``."""
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    state = MODELS.build(dict(type=type_, depth=depth)).state_dict()
    return save(path, {f'backbone.{k}': v for k, v in state.items()})


def test_a_deeper_resnet_of_the_same_block_is_refused_naming_both_depths(tmp_path):
    # ResNet-34's blocks 0-1 of each stage are a whole ResNet-18: it used to load them
    path = built_backbone_file(tmp_path / 'r34.pth', 'ResNet_CIFAR', 34)
    with pytest.raises(PretrainedCheckpointError,
                       match=r'holds a ResNet-34 .*ResNet_CIFAR is a ResNet-18'):
        build_linear(path).init_weights()


def test_a_resnet101_is_refused_by_the_r50_detector_naming_both_depths(tmp_path):
    from mmdet.registry import MODELS
    path = built_backbone_file(tmp_path / 'r101.pth', 'ResNet', 101)
    cfg = Config.fromfile(DET_R50)
    cfg.model.backbone.init_cfg.checkpoint = path
    init_default_scope('mmdet')
    backbone = MODELS.build(cfg.model.backbone)  # mmdet's ResNet-50
    with pytest.raises(PretrainedCheckpointError, match=r'ResNet-101 .* is a ResNet-50'):
        backbone.init_weights()


def test_a_shallower_resnet_is_refused_naming_both_depths(tmp_path):
    path = built_backbone_file(tmp_path / 'r18.pth', 'ResNet', 18)
    init_default_scope('mmpretrain')
    from mmpretrain.models import ResNet
    with pytest.raises(PretrainedCheckpointError, match=r'ResNet-18 .* is a ResNet-34'):
        StrictPretrainedInit(checkpoint=path, prefix='backbone.')(ResNet(depth=34))


def official_jigclu_file(path, backbone):
    """As the official JigClu main.py saves it: DDP's module., the encoder and its two heads."""
    state = {f'module.encoder.{k}': v for k, v in backbone.items()}
    state.update({f'module.encoder.fc_clu.{k}': torch.randn(3) for k in
                  ('0.weight', '0.bias', '2.weight', '2.bias')})
    state.update({'module.encoder.fc_loc.weight': torch.randn(4, 512),
                  'module.encoder.fc_loc.bias': torch.zeros(4)})
    torch.save({'epoch': 200, 'arch': 'resnet18', 'state_dict': state, 'optimizer': {}}, path)
    return str(path)


@pytest.mark.parametrize('prefix', [None, 'module.encoder.', 'module.encoder'])
def test_linear_config_takes_the_official_jigclu_file(prefix, r18_pretrain_state, tmp_path):
    backbone = backbone_of(r18_pretrain_state)
    model = build_linear(official_jigclu_file(tmp_path / 'model_best.pth.tar', backbone))
    model.backbone.init_cfg['prefix'] = prefix
    model.init_weights()
    assert_backbone_is(model, backbone)


def test_a_prefix_not_as_stored_is_refused_with_where_the_backbone_is(r18_pretrain_state,
                                                                      tmp_path):
    path = official_jigclu_file(tmp_path / 'model_best.pth.tar', backbone_of(r18_pretrain_state))
    model = build_linear(path)
    model.backbone.init_cfg['prefix'] = 'encoder.'
    with pytest.raises(PretrainedCheckpointError) as error:
        model.init_weights()
    assert f'no key of {path} starts with the prefix "encoder."' in str(error.value)
    assert 'the ResNet_CIFAR stands under "module.encoder."' in str(error.value)


def test_linear_config_takes_the_query_encoder_of_an_official_moco_file(r18_pretrain_state,
                                                                        tmp_path):
    query = backbone_of(r18_pretrain_state)
    key = {k: torch.rand_like(v.float()).to(v.dtype) for k, v in query.items()}
    state = {**{f'module.encoder_q.{k}': v for k, v in query.items()},
             **{f'module.encoder_k.{k}': v for k, v in key.items()},
             'module.encoder_q.fc.0.weight': torch.randn(2, 512), 'module.queue': torch.ones(2),
             'module.queue_ptr': torch.zeros(1, dtype=torch.long)}
    path = tmp_path / 'checkpoint_0199.pth.tar'
    torch.save({'epoch': 200, 'arch': 'resnet18', 'state_dict': state, 'optimizer': {}}, path)
    model = build_linear(str(path))
    model.init_weights()
    assert_backbone_is(model, query)


def test_det_config_takes_a_detectron2_pickle(r18_pretrain_state, tmp_path):
    from mejigclu_mm.transfer import to_detectron2
    backbone = backbone_of(r18_pretrain_state)
    path = tmp_path / 'r18_d2.pkl'
    path.write_bytes(pickle.dumps(to_detectron2(backbone)))
    detector = build_detector(str(path))
    detector.init_weights()
    loaded = detector.backbone.state_dict()
    for name, value in backbone.items():
        if not name.endswith('num_batches_tracked'):  # detectron2 files have no BN counters
            assert torch.equal(loaded[name], value), name


def test_diverged_checkpoint_is_refused_with_the_file(r18_pretrain_state, tmp_path):
    from mejigclu_mm.runtime import NonFiniteCheckpointError
    state = dict(r18_pretrain_state)
    state['backbone.layer3.0.conv2.weight'] = torch.full_like(
        state['backbone.layer3.0.conv2.weight'], float('inf'))
    path = save(tmp_path / 'epoch_3.pth', state)
    with pytest.raises(NonFiniteCheckpointError,
                       match=f'checkpoint {path} has 1 of 100 tensors with NaN or Inf values '
                             r'\(e.g. backbone.layer3.0.conv2.weight\)'):
        build_linear(path).init_weights()


def test_a_git_lfs_pointer_is_named(tmp_path):
    from mejigclu_mm.runtime import NotACheckpointError
    path = tmp_path / 'jigclu_r50.pth'
    path.write_text('version https://git-lfs.github.com/spec/v1\noid sha256:' + '1' * 64
                    + '\nsize 102538541\n')
    with pytest.raises(NotACheckpointError, match='it is a Git LFS pointer .*"git lfs pull"'):
        build_linear(str(path)).init_weights()
