"""The semi-supervised '-reference-lr' configs: every parameter group at the backbone lr, as the
official main_semi.py ran (issue 26.4); the stated configs keep their separate head lr."""
import pytest
from conftest import ROOT
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

import mejigclu_mm  # noqa: F401

BENCH = ROOT / 'configs/mejigclu/benchmarks'


def group_lrs(config):
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(BENCH / config)
    init_default_scope('mmpretrain')
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    names = {id(p): n for n, p in model.named_parameters()}
    return {('head' if names[id(g['params'][0])].startswith('head') else 'backbone'): g['lr']
            for g in wrapper.optimizer.param_groups}


@pytest.mark.parametrize('labels, backbone_lr, head_lr', [('10pct', 0.01, 0.2),
                                                          ('1pct', 0.02, 5.0)])
def test_reference_lr_sets_the_head_to_the_backbone_lr(labels, backbone_lr, head_lr):
    stated = group_lrs(f'resnet50_4xb64-semi-{labels}-steplr-100e_in1k.py')
    assert stated == pytest.approx({'backbone': backbone_lr, 'head': head_lr})
    reference = group_lrs(f'resnet50_4xb64-semi-{labels}-reference-lr-steplr-100e_in1k.py')
    assert reference == pytest.approx({'backbone': backbone_lr, 'head': backbone_lr})
