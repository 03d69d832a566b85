"""Every shipped config states the global batch its learning rate is set for: with
``auto_scale_lr.enable=True`` mmengine scales the lr by (processes x batch) / base_batch_size,
so at the config's own batch the lr stays the recipe's (the Fashion-MNIST configs inherited
the ImageNet schedule's 256 and lost 3/4 of their lr at batch 64)."""
import re
from types import SimpleNamespace

import pytest
import torch
from conftest import ROOT
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.optim import OptimWrapper
from mmengine.runner import Runner

CONFIGS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / 'configs').rglob('*.py')
                 if '_base_' not in p.parts and 'comparisons' not in p.parts)  # runs' configs
# Processes of the configs whose name has no {gpus}xb{batch} (mmdet's own 1x / VOC names)
PROCESSES = {'faster-rcnn_r50_fpn_syncbn_1x_coco.py': 8,
             'faster-rcnn_r50_fpn_syncbn_24k_voc0712.py': 4}  # JigClu's VOC recipe: batch 8


def recipe_batch(config, cfg):
    """(processes, images per process) of a config: its name's {gpus}xb{batch}, or
    :data:`PROCESSES` and its dataloader."""
    name = config.rsplit('/', 1)[-1]
    found = re.search(r'_(\d+)xb(\d+)', name)
    if found:
        gpus, batch = map(int, found.groups())
        assert cfg.train_dataloader.batch_size == batch, config
        return gpus, batch
    return PROCESSES[name], cfg.train_dataloader.batch_size


def scaled_lr(cfg, processes):
    """The lr after mmengine's ``Runner.scale_lr`` with ``auto_scale_lr.enable=True`` on
    ``processes`` processes (the Runner's own method, on a stand-in for the Runner)."""
    lr = cfg.optim_wrapper.optimizer.lr
    wrapper = OptimWrapper(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr))
    runner = SimpleNamespace(world_size=processes, _train_dataloader=cfg.train_dataloader,
                             logger=MMLogger.get_current_instance(), param_schedulers=None)
    Runner.scale_lr(runner, wrapper, dict(cfg.auto_scale_lr, enable=True))
    return wrapper.optimizer.param_groups[0]['lr']


@pytest.mark.parametrize('config', CONFIGS)
def test_the_base_batch_is_the_configs_global_batch(config):
    cfg = Config.fromfile(ROOT / config)
    processes, batch = recipe_batch(config, cfg)
    assert cfg.get('auto_scale_lr'), f'{config} states no auto_scale_lr.base_batch_size'
    assert cfg.auto_scale_lr.base_batch_size == processes * batch, config
    assert not cfg.auto_scale_lr.get('enable', False)  # scaling stays the user's choice
    assert scaled_lr(cfg, processes) == pytest.approx(cfg.optim_wrapper.optimizer.lr)


def test_scaling_follows_the_batch_from_the_recipes_own():
    cfg = Config.fromfile(
        ROOT / 'configs/mejigclu/mejigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py')
    assert cfg.optim_wrapper.optimizer.lr == 0.03
    assert scaled_lr(cfg, 4) == pytest.approx(0.12)  # 4 x 64 images: 4 x the lr
