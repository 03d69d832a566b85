"""BackboneLoadedHook: a frozen backbone that loaded nothing stops the run (issue 27.7).

The hook is called in the Runner's order (before_run, init_weights, before_train) on the real
Fashion-scenes detector, whose ResNet-18 is frozen whole."""
import re
from types import SimpleNamespace

import pytest
import torch
from conftest import ROOT
from log_capture import captured_log
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mejigclu_mm  # noqa: F401
from mejigclu_mm.transfer import BackboneLoadedHook, BackboneNotLoadedError

DET = ROOT / 'configs/mejigclu/benchmarks/mmdetection/faster-rcnn_r18-cifar_fpn_1xb8-6e_fashion-scenes.py'  # noqa: E501
PRETRAIN = ROOT / 'configs/mejigclu/mejigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py'


@pytest.fixture(scope='module')
def pretraining_checkpoint(tmp_path_factory):
    """A pretraining checkpoint (``backbone.*``, ``neck.*``, ``heads.*``) of another seed."""
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    torch.manual_seed(1)
    state = MODELS.build(Config.fromfile(PRETRAIN).model).state_dict()
    path = tmp_path_factory.mktemp('ckpt') / 'epoch_1.pth'
    torch.save({'meta': {}, 'state_dict': state}, path)
    return str(path)


def run_init(init_cfg, hook=None, load_from=None):
    """before_run, init_weights, (load_from), before_train, as mmengine's Runner.train."""
    from mmdet.registry import MODELS
    cfg = Config.fromfile(DET)
    cfg.model.backbone.init_cfg = init_cfg
    init_default_scope('mmdet')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    runner = SimpleNamespace(model=model, _has_loaded=load_from is not None, _load_from=load_from)
    hook = hook or BackboneLoadedHook()
    hook.before_run(runner)
    model.init_weights()
    if load_from is not None:
        from mmengine.runner import load_checkpoint
        load_checkpoint(model, load_from, strict=False)
    hook.before_train(runner)
    return model


def test_mmengine_pretrained_with_unmatched_keys_is_refused(pretraining_checkpoint):
    # every key is 'backbone.*': mmengine's Pretrained loads nothing, one warning, exit 0
    # (its BN tensors are 1 / 0 as initialised, like the model's: the convolutions tell)
    with pytest.raises(BackboneNotLoadedError) as error:
        run_init(dict(type='Pretrained', checkpoint=pretraining_checkpoint))
    convolutions = sum(1 for k in torch.load(pretraining_checkpoint, weights_only=True)[
        'state_dict'] if k.startswith('backbone.') and 'conv' in k or 'downsample.0' in k)
    assert re.search(rf"loaded nothing into {convolutions} of its \d+ frozen tensors: .* no "
                     rf"tensors of .*epoch_1.pth \(init_cfg type 'Pretrained'\), e.g. "
                     rf"conv1.weight", str(error.value)), error.value


def test_mmengine_pretrained_with_the_prefix_passes(pretraining_checkpoint):
    model = run_init(dict(type='Pretrained', checkpoint=pretraining_checkpoint,
                          prefix='backbone.'))
    state = torch.load(pretraining_checkpoint, weights_only=True)['state_dict']
    assert torch.equal(model.backbone.conv1.weight, state['backbone.conv1.weight'])


def test_strict_pretrained_passes(pretraining_checkpoint):
    run_init(dict(type='StrictPretrained', checkpoint=pretraining_checkpoint))


def test_a_frozen_backbone_without_a_checkpoint_trains_with_a_warning():
    # init_cfg=None: the random-features baseline, as the configs' comments offer it
    with captured_log() as messages:
        run_init(None)
    assert any('loads no checkpoint' in message for message in messages)


def test_load_from_of_a_whole_model_counts_as_loaded(pretraining_checkpoint, tmp_path):
    from mmdet.registry import MODELS
    cfg = Config.fromfile(DET)
    cfg.model.backbone.init_cfg = None
    init_default_scope('mmdet')
    torch.manual_seed(3)
    path = tmp_path / 'detector.pth'
    torch.save({'state_dict': MODELS.build(cfg.model).state_dict()}, path)
    run_init(None, load_from=str(path))


def test_a_checkpoint_equal_to_the_initial_values_counts_as_loaded(tmp_path):
    # a file made from the very same initial network: nothing changes, yet it is the file's
    from mmdet.registry import MODELS
    cfg = Config.fromfile(DET)
    init_default_scope('mmdet')
    torch.manual_seed(0)
    path = tmp_path / 'same.pth'
    state = MODELS.build(cfg.model).backbone.state_dict()
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in state.items()}}, path)
    run_init(dict(type='Pretrained', checkpoint=str(path), prefix='backbone.'))
