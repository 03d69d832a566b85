"""Stop a transfer run whose frozen backbone loaded nothing, whichever init type loaded it."""
import logging
import os.path as osp
from typing import Dict, List

import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from torch import nn

from mejigclu_mm.transfer.checkpoint_layouts import CheckpointLayoutError, read_checkpoint_weights
from mmpretrain.registry import HOOKS


class BackboneNotLoadedError(RuntimeError):
    """A backbone whose ``init_cfg`` or ``load_from`` names a checkpoint loaded nothing of it."""


def frozen_tensors(backbone: nn.Module) -> Dict[str, torch.Tensor]:
    """The backbone's frozen parameters, and the BN statistics of modules frozen whole.

    Args:
        backbone (nn.Module): The backbone.

    Returns:
        dict: State-dict name -> tensor (BN counters left out).
    """
    frozen = {}
    for prefix, module in backbone.named_modules():
        params = list(module.parameters(recurse=False))
        if not params or any(p.requires_grad for p in params):
            continue
        for name, tensor in module.state_dict(keep_vars=True).items():
            if '.' not in name and not name.endswith('num_batches_tracked'):
                frozen[f'{prefix}.{name}'.lstrip('.')] = tensor.detach()
    return frozen


def init_checkpoints(backbone: nn.Module) -> List[str]:
    """The checkpoints that the backbone's ``init_cfg`` names (any init type)."""
    init_cfg = getattr(backbone, 'init_cfg', None) or []
    cfgs = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    return [str(cfg['checkpoint']) for cfg in cfgs
            if isinstance(cfg, dict) and cfg.get('checkpoint')]


@HOOKS.register_module()
class BackboneLoadedHook(Hook):
    """Refuse to train heads on a frozen backbone that loaded nothing.

    From: the linear, semi-supervised and detection protocols of Chen et al., *Jigsaw
    Clustering for Unsupervised Visual Representation Learning* (CVPR 2021), which start from
    the pretrained backbone.

    mmengine's ``init_cfg=dict(type='Pretrained', checkpoint=...)`` (mmdet's and mmseg's usual
    init) loads with ``strict=False``: a file whose keys do not match (a whole pretraining
    checkpoint without ``prefix='backbone.'``, say) leaves every tensor random, with one
    warning, and the run trains on a random frozen backbone to the end. In ``before_run``
    (before mmengine initialises the weights) this hook copies the backbone's frozen tensors
    (parameters with ``requires_grad=False`` and the BN statistics of such modules); in
    ``before_train`` (after ``init_weights``, ``load_from`` and resume) it compares them.
    A frozen tensor that still holds its construction value and is no tensor of the checkpoints
    named (``init_cfg`` of any type, ``load_from``) stops the run, as does a backbone whose
    ``init_cfg`` names a checkpoint and none of whose tensors changed. A frozen backbone that
    names no checkpoint at all (``init_cfg=None``: the random-features baseline) is trained
    with a warning. Cost: one copy of the frozen tensors, and one read of each checkpoint only
    when a tensor kept its value.
    """

    priority = 'VERY_HIGH'

    def __init__(self):
        self._before: Dict[str, torch.Tensor] = {}

    @staticmethod
    def _backbone(runner) -> nn.Module:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        return getattr(model, 'backbone', None)

    def before_run(self, runner) -> None:
        backbone = self._backbone(runner)
        if backbone is not None:
            self._before = {k: v.clone() for k, v in backbone.state_dict().items()
                            if not k.endswith('num_batches_tracked')}

    def before_train(self, runner) -> None:
        backbone = self._backbone(runner)
        if backbone is None or not self._before:
            return
        sources = init_checkpoints(backbone)
        loaded = getattr(runner, '_load_from', None) if getattr(runner, '_has_loaded', False) \
            else None
        name = type(backbone).__name__
        frozen = frozen_tensors(backbone)
        if not sources and not loaded:
            if frozen:  # init_cfg=None: the random-features baseline, asked for
                print_log(f'the frozen backbone {name} loads no checkpoint (init_cfg names none, '
                          f'no load_from): the heads train on random features',
                          logger='current', level=logging.WARNING)
            return
        state = backbone.state_dict()
        kept = [k for k, v in (frozen or state).items()
                if k in self._before and torch.equal(v, self._before[k])]
        if frozen and not kept:
            return
        if not frozen and len(kept) < len(self._before):
            return  # trained whole: something loaded (StrictPretrained checks what)
        kept = self._not_in_files(kept, state, sources + ([str(loaded)] if loaded else []))
        if kept:
            what = f'{len(kept)} of its {len(frozen)} frozen tensors' if frozen \
                else f'all of its {len(self._before)} tensors'
            files = ', '.join(sources + ([str(loaded)] if loaded else []))
            raise BackboneNotLoadedError(
                f'the backbone {name} loaded nothing into {what}: they hold their random '
                f'initial values, which are no tensors of {files} (init_cfg type '
                f'{self._init_types(backbone)}), e.g. {", ".join(kept[:4])}. mmengine\'s '
                f'\'Pretrained\' loads only the keys that match (a pretraining checkpoint needs '
                f'prefix=\'backbone.\'); init_cfg=dict(type=\'StrictPretrained\', '
                f'checkpoint=PATH) finds the backbone in any layout and refuses an incomplete one')
        self._before = {}

    @staticmethod
    def _init_types(backbone) -> str:
        init_cfg = getattr(backbone, 'init_cfg', None) or []
        cfgs = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
        return ', '.join(repr(c.get('type')) for c in cfgs if isinstance(c, dict)) or 'None'

    @staticmethod
    def _not_in_files(names: List[str], state, files: List[str]) -> List[str]:
        """Of ``names``, those whose tensor is in none of ``files`` under the same name."""
        left = list(names)
        for path in files:
            if not left or '://' in path or not osp.isfile(osp.expanduser(path)):
                continue
            try:
                tensors = read_checkpoint_weights(osp.expanduser(path)).tensors
            except CheckpointLayoutError:
                continue
            by_suffix = {}
            for key, value in tensors.items():
                by_suffix.setdefault(key.split('.')[-1], []).append((key, value))

            def in_file(name):
                value = state[name]
                return any((key == name or key.endswith('.' + name)) and
                           tuple(other.shape) == tuple(value.shape) and
                           torch.equal(other.to(value.dtype), value.cpu())
                           for key, other in by_suffix.get(name.split('.')[-1], ()))
            left = [name for name in left if not in_file(name)]
        return left
