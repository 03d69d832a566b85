"""Turn pretraining checkpoints into backbone weights for downstream frameworks."""
from .formats import from_detectron2, to_detectron2, to_mmdet, to_torchvision
from .resnet_keys import (BackboneError, backbone_state_dict, check_complete_resnet,
                          expected_resnet_keys, infer_resnet_depth)

__all__ = [
    'from_detectron2', 'to_detectron2', 'to_mmdet', 'to_torchvision', 'BackboneError',
    'backbone_state_dict', 'check_complete_resnet', 'expected_resnet_keys', 'infer_resnet_depth'
]
