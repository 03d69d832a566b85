"""Rename a ResNet backbone state dict for mmdet / mmpretrain, torchvision and detectron2."""
import re
from collections import OrderedDict
from typing import Dict

import torch


def to_mmdet(state: Dict[str, torch.Tensor]) -> dict:
    """A checkpoint whose state dict is the backbone alone, as ``init_cfg=Pretrained`` loads it
    into mmdet's / mmpretrain's ``ResNet`` (same names as torchvision)."""
    return {'state_dict': OrderedDict(state), 'meta': {'converted_by': 'mejigclu_mm'}}


def to_torchvision(state: Dict[str, torch.Tensor]) -> 'OrderedDict[str, torch.Tensor]':
    """A state dict for ``torchvision.models.resnet*`` (only ``fc`` missing)."""
    return OrderedDict(state)


def _detectron2_name(name: str) -> str:
    """torchvision ResNet name -> detectron2 ResNet name."""
    if name.startswith('conv1.'):
        return 'stem.conv1.' + name[len('conv1.'):]
    if name.startswith('bn1.'):
        return 'stem.conv1.norm.' + name[len('bn1.'):]
    match = re.match(r'layer(\d)\.(\d+)\.(.+)', name)
    if not match:
        raise KeyError(f'not a ResNet backbone key: {name}')
    stage, block, rest = match.groups()
    rest = re.sub(r'^bn(\d)\.', r'conv\1.norm.', rest)
    rest = rest.replace('downsample.0.', 'shortcut.').replace('downsample.1.', 'shortcut.norm.')
    return f'res{int(stage) + 1}.{block}.{rest}'


def to_detectron2(state: Dict[str, torch.Tensor]) -> dict:
    """detectron2's pickle layout: numpy arrays under detectron2 names, BN counters dropped."""
    model = OrderedDict((_detectron2_name(k), v.detach().cpu().numpy())
                        for k, v in state.items() if not k.endswith('num_batches_tracked'))
    return {'model': model, '__author__': 'mejigclu_mm', 'matching_heuristics': True}


def from_detectron2(model: Dict[str, object]) -> 'OrderedDict[str, torch.Tensor]':
    """detectron2 names -> torchvision names (the inverse of :func:`to_detectron2`)."""
    out = OrderedDict()
    for name, value in model.items():
        tv = name
        if tv.startswith('stem.conv1.norm.'):
            tv = 'bn1.' + tv[len('stem.conv1.norm.'):]
        elif tv.startswith('stem.conv1.'):
            tv = 'conv1.' + tv[len('stem.conv1.'):]
        else:
            match = re.match(r'res(\d)\.(\d+)\.(.+)', tv)
            if not match:
                raise KeyError(f'not a detectron2 ResNet key: {name}')
            stage, block, rest = match.groups()
            rest = rest.replace('shortcut.norm.', 'downsample.1.').replace('shortcut.',
                                                                          'downsample.0.')
            rest = re.sub(r'^conv(\d)\.norm\.', r'bn\1.', rest)
            tv = f'layer{int(stage) - 1}.{block}.{rest}'
        out[tv] = torch.as_tensor(value)
    return out
