"""Weights in and out: find a ResNet backbone in the field's checkpoint layouts, write it for
other frameworks, and load it strictly into a model (``init_cfg=dict(type='StrictPretrained')``)."""
from mejigclu_mm.transfer.checkpoint_layouts import (BackboneWeights, CheckpointLayoutError,
                                                     CheckpointWeights, checkpoint_weights,
                                                     read_checkpoint_weights, resolve_backbone)
from mejigclu_mm.transfer.detectron2_settings import (detectron2_command_line, detectron2_settings,
                                                      detectron2_settings_yaml)
from mejigclu_mm.transfer.finite_weights import check_finite
from mejigclu_mm.transfer.formats import (NAME_PIECES, from_detectron2, to_detectron2, to_mmdet,
                                          to_timm, to_torchvision, torchvision_name)
from mejigclu_mm.transfer.loaded_backbone_hook import BackboneLoadedHook, BackboneNotLoadedError
from mejigclu_mm.transfer.resnet_keys import (BackboneError, check_complete_resnet,
                                              check_standard_stem, expected_resnet_keys,
                                              infer_resnet_depth)
from mejigclu_mm.transfer.state_match import (describe_uncovered, key_groups, uncovered,
                                              without_ddp_prefix)
from mejigclu_mm.transfer.strict_pretrained import PretrainedCheckpointError, StrictPretrainedInit
from mejigclu_mm.transfer.transfer_guard import (GuardVerdict, TransferGuardError,
                                                 check_transfer_model, compare_backbones)
from mejigclu_mm.transfer.transfer_guard_hook import TransferGuardHook

__all__ = [
    'BackboneWeights', 'CheckpointLayoutError', 'CheckpointWeights', 'checkpoint_weights',
    'read_checkpoint_weights', 'resolve_backbone', 'detectron2_command_line', 'detectron2_settings',
    'detectron2_settings_yaml', 'check_finite', 'NAME_PIECES', 'from_detectron2',
    'to_detectron2', 'to_mmdet', 'to_timm', 'to_torchvision', 'torchvision_name', 'BackboneError',
    'check_complete_resnet', 'check_standard_stem', 'expected_resnet_keys', 'infer_resnet_depth',
    'describe_uncovered', 'key_groups', 'uncovered', 'without_ddp_prefix',
    'PretrainedCheckpointError', 'StrictPretrainedInit', 'BackboneLoadedHook',
    'BackboneNotLoadedError', 'GuardVerdict', 'TransferGuardError', 'check_transfer_model',
    'compare_backbones', 'TransferGuardHook'
]
