"""A strict ``init_cfg=dict(type='Pretrained')``: refuse a checkpoint that leaves tensors out.

mmengine's ``PretrainedInit`` loads with ``strict=False``: a checkpoint missing part of the
backbone logs one warning and training goes on from a partly random backbone (frozen for good by
the linear protocol's ``frozen_stages=4`` / ``norm_eval=True``), and ``checkpoint=None`` (as the
configs ship) fails with ``TypeError: expected string or bytes-like object``. Importing
``mejigclu_mm`` (the configs' ``custom_imports`` and tools/*.py do) registers
:class:`StrictPretrainedInit` as ``'Pretrained'`` in mmengine's ``WEIGHT_INITIALIZERS`` in its
place, same arguments, which

- says how to set the checkpoint when it is None;
- finds the module's tensors under ``prefix`` (the linear configs: ``backbone.`` of a
  pretraining checkpoint) or under their own names (the detection configs: a converted file),
  and also in the other layout: an unconverted pretraining checkpoint in a detection config is
  converted on the fly, with a log line (:func:`mejigclu_mm.converters.find_module_state`);
- refuses, naming the file and the missing tensors, when the module's tensors are not all there
  (or have other shapes). Extra tensors in the file (heads, neck, fc) are fine.

Loading part of a model on purpose stays possible through ``load_from``, which is not strict.
"""
import os

from mmengine.logging import print_log
from mmengine.model.weight_init import PretrainedInit, update_init_info
from mmengine.registry import WEIGHT_INITIALIZERS
from mmengine.runner.checkpoint import CheckpointLoader, load_state_dict

from mejigclu_mm.converters.state_match import (CheckpointKeysError, checkpoint_state_dict,
                                                find_module_state)


class PretrainedCheckpointError(ValueError):
    """``init_cfg=dict(type='Pretrained')`` names no checkpoint, or one that does not fit."""


@WEIGHT_INITIALIZERS.register_module(name='Pretrained', force=True)
class StrictPretrainedInit(PretrainedInit):
    """Initialise a module from a checkpoint that must hold all of its tensors.

    Args:
        checkpoint (str): The checkpoint file (or any mmengine checkpoint URL).
        prefix (str, optional): The prefix of the module's keys in the checkpoint, e.g.
            'backbone.'. Defaults to None (the module's own names).
        map_location (str): As for ``torch.load``. Defaults to 'cpu'.
    """

    def __call__(self, module):
        name = type(module).__name__
        if not self.checkpoint:
            raise PretrainedCheckpointError(
                f'{name} has init_cfg=dict(type=\'Pretrained\', checkpoint={self.checkpoint!r}): '
                f'set model.backbone.init_cfg.checkpoint, e.g. --cfg-options '
                f'model.backbone.init_cfg.checkpoint=PATH (a pretraining checkpoint, or a file '
                f'written by tools/convert_weights.py), or train from scratch with --cfg-options '
                f'model.backbone.init_cfg=None')
        where = f'{self.prefix} in model' if self.prefix else 'model'
        print_log(f'load {where} from: {self.checkpoint}', logger='current')
        checkpoint = CheckpointLoader.load_checkpoint(
            os.fspath(self.checkpoint), map_location=self.map_location, logger='current')
        try:
            state, note = find_module_state(module, checkpoint_state_dict(checkpoint),
                                            self.prefix)
        except CheckpointKeysError as error:
            raise PretrainedCheckpointError(
                f'refused to initialise {name} from {self.checkpoint}: {error}. Give a complete '
                f'pretraining checkpoint (tools/train.py writes it) or a backbone file written by '
                f'tools/convert_weights.py SRC DST --to mmdet') from None
        if note:
            print_log(f'{self.checkpoint}: {note}', logger='current')
        # Every tensor of the module is there; keys the module lacks are only reported.
        load_state_dict(module, state, strict=False, logger='current')
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=self._get_init_info())
