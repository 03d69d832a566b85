"""A strict ``init_cfg=dict(type='StrictPretrained')``: the backbone whole, from any layout.

mmengine's ``PretrainedInit`` (``'Pretrained'``) loads with ``strict=False``: a checkpoint
missing part of the backbone logs one warning and training goes on from a partly random backbone
(frozen for good by the linear protocol's ``frozen_stages=4`` / ``norm_eval=True``), and
``checkpoint=None`` (as the configs ship) fails with ``TypeError: expected string or bytes-like
object``. Our configs use :class:`StrictPretrainedInit`, registered in mmengine's
``WEIGHT_INITIALIZERS`` under its own name ``'StrictPretrained'`` (``'Pretrained'`` stays
mmengine's), which takes the same arguments and

- says how to set the checkpoint when it is None;
- reads the file with the safe loader and finds the module's tensors in any of the field's
  layouts (:func:`mejigclu_mm.transfer.resolve_backbone`): under ``prefix``, the keys as
  stored in the file (``backbone.`` for ours, ``module.encoder.`` for the official JigClu
  file), or, without one, wherever the file holds them alone (a pretraining checkpoint, a
  converted or torchvision file, MoCo's query encoder, a detectron2 pickle);
- refuses, naming the file, when the module's tensors are not all there (or have other shapes),
  when several candidates stand in the file and no prefix says which, and when they hold NaN
  or Inf; it logs what it took and what it dropped.

Loading part of a model on purpose stays possible through ``load_from``, which is not strict.
"""
import os

from mmengine.logging import print_log
from mmengine.model.weight_init import PretrainedInit, update_init_info
from mmengine.registry import WEIGHT_INITIALIZERS
from mmengine.runner.checkpoint import CheckpointLoader, load_state_dict
from torch import nn

from mejigclu_mm.runtime import safe_checkpoint_loading
from mejigclu_mm.transfer.checkpoint_layouts import (BackboneWeights, CheckpointLayoutError,
                                                     checkpoint_weights, read_checkpoint_weights,
                                                     resolve_backbone)


class PretrainedCheckpointError(ValueError):
    """``init_cfg=dict(type='StrictPretrained')`` names no checkpoint, or one that does not fit."""


@WEIGHT_INITIALIZERS.register_module(name='StrictPretrained')
class StrictPretrainedInit(PretrainedInit):
    """Initialise a module from a checkpoint that must hold all of its tensors.

    From: the linear, semi-supervised and detection protocols of Chen et al., *Jigsaw
    Clustering for Unsupervised Visual Representation Learning* (CVPR 2021), which start
    from the whole pretrained backbone.

    Args:
        checkpoint (str): The checkpoint file (or any mmengine checkpoint URL).
        prefix (str, optional): Where the module's tensors stand in the file, the keys as
            stored (e.g. 'backbone.', 'module.encoder.', '' for the top level). Defaults to
            None: found in the file.
        map_location (str): As for ``torch.load``. Defaults to 'cpu'.
    """

    def __call__(self, module: nn.Module) -> None:
        self.load(module)

    def load(self, module: nn.Module) -> BackboneWeights:
        """Load the module's tensors from the checkpoint; return what was taken and dropped."""
        name = type(module).__name__
        if not self.checkpoint:
            raise PretrainedCheckpointError(
                f'{name} has init_cfg=dict(type=\'StrictPretrained\', '
                f'checkpoint={self.checkpoint!r}): set model.backbone.init_cfg.checkpoint, e.g. '
                f'--cfg-options model.backbone.init_cfg.checkpoint=PATH (a pretraining '
                f'checkpoint, or a file written by tools/convert_weights.py), or train from '
                f'scratch with --cfg-options model.backbone.init_cfg=None')
        path = os.fspath(self.checkpoint)
        print_log(f'load {name} from: {path}', logger='current')
        try:
            backbone = resolve_backbone(self._read(path), self.prefix, module)
        except CheckpointLayoutError as error:
            raise PretrainedCheckpointError(
                f'refused to initialise {name} from {path}: {error}. Give a complete '
                f'pretraining checkpoint (tools/train.py writes it), a backbone file written by '
                f'tools/convert_weights.py SRC DST --to mmdet, or the prefix of the backbone in '
                f'the file') from None
        print_log(f'{path}: {name} takes the {len(backbone.state)} tensors under '
                  f'"{backbone.prefix}"{"; " + backbone.note if backbone.note else ""}; dropped: '
                  f'{backbone.dropped_text()}', logger='current')
        # Every tensor of the module is there; what the module lacks was dropped above.
        load_state_dict(module, backbone.state, strict=False, logger='current')
        if getattr(module, 'zero_init_residual', False):
            # mmpretrain's ResNet zeroes each block's last BN after its init_cfg ran unless the
            # init_cfg type is 'Pretrained': that would overwrite the loaded weights.
            module.zero_init_residual = False
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=self._get_init_info())
        return backbone

    def _read(self, path: str):
        if '://' not in path:
            return read_checkpoint_weights(os.path.expanduser(path), self.map_location)
        with safe_checkpoint_loading():  # a URL: mmengine's loader for its scheme
            return checkpoint_weights(
                CheckpointLoader.load_checkpoint(path, map_location=self.map_location), path)
