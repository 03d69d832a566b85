"""Turn pretraining checkpoints into backbone weights for downstream frameworks."""
from .formats import NAME_PIECES, from_detectron2, to_detectron2, to_mmdet, to_torchvision
from .resnet_keys import (BackboneError, backbone_state_dict, check_complete_resnet,
                          check_standard_stem, expected_resnet_keys, infer_resnet_depth)
from .state_match import (CheckpointKeysError, checkpoint_state_dict, find_module_state,
                          uncovered)

__all__ = [
    'NAME_PIECES', 'from_detectron2', 'to_detectron2', 'to_mmdet', 'to_torchvision',
    'BackboneError', 'backbone_state_dict', 'check_complete_resnet', 'check_standard_stem',
    'expected_resnet_keys', 'infer_resnet_depth', 'CheckpointKeysError', 'checkpoint_state_dict',
    'find_module_state', 'uncovered'
]
