"""The network pretraining starts from: a backbone initialised from a seed and nothing else."""
import copy

import torch
from torch import nn

# init_cfg types that fill the backbone from a checkpoint (the seed then plays no part)
CHECKPOINT_INITS = ('Pretrained', 'StrictPretrained')


def loads_a_checkpoint(module: nn.Module) -> bool:
    """Whether ``module``'s own ``init_cfg`` fills it from a checkpoint."""
    init_cfgs = getattr(module, 'init_cfg', None) or []
    if isinstance(init_cfgs, dict):
        init_cfgs = [init_cfgs]
    return any(str(cfg.get('type', '')).split('.')[-1] in CHECKPOINT_INITS for cfg in init_cfgs)


def init_from_seed(module: nn.Module, seed: int) -> nn.Module:
    """Run ``module.init_weights()`` on torch's generator seeded with ``seed`` alone.

    The backbone JigClu / MEJigClu pretraining starts from, and the random baseline of every
    evaluation (docs/evaluation.md): its weights depend on the seed and the architecture only,
    not on what else was built or drawn before (the heads draw from the same stream when they
    are built), nor on the device (the weights are drawn on the CPU, in a copy, then loaded).
    The global random streams are left as they were. The module is marked as initialised, so
    a parent's ``init_weights`` does not draw it again.

    Args:
        module (nn.Module): An mmengine ``BaseModule`` (e.g. mmpretrain's ResNet), on any
            device.
        seed (int): The seed.

    Returns:
        nn.Module: ``module``, initialised in place.
    """
    drawn = copy.deepcopy(module).cpu()
    with torch.random.fork_rng(devices=[]):  # the CPU stream only: CUDA's is not touched
        torch.random.default_generator.manual_seed(seed)
        drawn.init_weights()
    module.load_state_dict(drawn.state_dict())
    module.is_init = True
    return module
