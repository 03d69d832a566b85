"""The backbone a pretraining starts from depends on the seed alone, and it is the random
baseline of the evaluation tools: a live ResNet (no zeroed residual branches)."""
import pytest
import torch
from conftest import ROOT
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

import mejigclu_mm  # noqa: F401
from mejigclu_mm.evaluation import build_frozen_classifier
from mejigclu_mm.models.utils import init_from_seed
from mmpretrain.registry import MODELS

PRETRAIN = ROOT / 'configs/mejigclu/mejigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py'
LINEAR = (ROOT / 'configs/mejigclu/benchmarks/'
          'resnet18-cifar_1xb256-linear-steplr-100e_fashion-mnist.py')


def small_resnet():
    return MODELS.build(dict(type='ResNet_CIFAR', depth=18, base_channels=8, stem_channels=8,
                             zero_init_residual=False))


def states_equal(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_the_weights_depend_on_the_seed_alone_and_leave_the_global_stream_alone():
    torch.manual_seed(123)
    first = init_from_seed(small_resnet(), 7).state_dict()
    after = torch.rand(3)
    torch.manual_seed(123)
    torch.rand(1000)  # whatever was drawn before
    assert states_equal(init_from_seed(small_resnet(), 7).state_dict(), first)
    torch.manual_seed(123)
    init_from_seed(small_resnet(), 7)
    assert torch.equal(torch.rand(3), after)  # as if nothing had been drawn
    assert not states_equal(init_from_seed(small_resnet(), 8).state_dict(), first)


def last_bn_weights(backbone):
    return {name: module.weight for name, module in backbone.named_modules()
            if name.endswith(('.bn2', '.bn3')) and name.startswith('layer')}


def test_the_random_baseline_has_live_residual_branches():
    backbone = build_frozen_classifier(Config.fromfile(LINEAR), 'none', seed=0).backbone
    weights = last_bn_weights(backbone)
    assert len(weights) == 8  # the 8 BasicBlocks of ResNet-18
    assert all(torch.equal(w, torch.ones_like(w)) for w in weights.values())
    x = torch.randn(2, 3, 32, 32)
    block = backbone.layer1[0]
    with torch.no_grad():  # the residual branch adds something: not a stem plus shortcuts
        stem = backbone.relu(backbone.norm1(backbone.conv1(x)))
        branch = block.norm2(block.conv2(block.relu(block.norm1(block.conv1(stem)))))
        assert branch.abs().max() > 0.1


class CaptureBackbone(Hook):
    """The backbone's weights just before the first training step."""

    def __init__(self):
        self.state = None

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if self.state is None:
            model = getattr(runner.model, 'module', runner.model)
            self.state = {k: v.detach().clone() for k, v in model.backbone.state_dict().items()}


@pytest.mark.slow  # runs a Runner
@pytest.mark.parametrize('seed', [0, 5])
def test_it_equals_the_pretraining_backbone_before_the_first_step(seed, fashion_mnist_format_root,
                                                                  tmp_path):
    cfg = Config.fromfile(PRETRAIN)
    cfg.work_dir = str(tmp_path)
    cfg.randomness = dict(seed=seed)
    cfg.train_dataloader.update(batch_size=8, num_workers=0, persistent_workers=False)
    cfg.train_dataloader.dataset.update(data_root=str(fashion_mnist_format_root), indices=8)
    cfg.model.heads.cls.num_classes = 8
    cfg.train_cfg.max_epochs = 1
    cfg.custom_hooks = []
    capture = CaptureBackbone()
    runner = Runner.from_cfg(cfg)
    runner.register_hook(capture)
    runner.train()
    baseline = build_frozen_classifier(Config.fromfile(LINEAR), 'none', seed=seed).backbone
    assert states_equal(capture.state, baseline.state_dict())
    other = build_frozen_classifier(Config.fromfile(LINEAR), 'none', seed=seed + 1).backbone
    assert not states_equal(capture.state, other.state_dict())
