"""Check that a ResNet backbone's tensors are complete, and infer its depth.

The names and the blocks per stage are read from mmpretrain's ``ResNet`` itself (its
``arch_settings`` and the state dict of one built model per depth), not restated here;
torchvision's ResNet has the same names.
"""
import re
from functools import lru_cache
from typing import Dict, Tuple

import torch

from mmpretrain.models.backbones import ResNet
from mmpretrain.models.backbones.resnet import BasicBlock

# depth -> (block kind, blocks per stage), from mmpretrain's ResNet.arch_settings
RESNET_STAGE_BLOCKS = {
    depth: ('basic' if issubclass(block, BasicBlock) else 'bottleneck', tuple(stages))
    for depth, (block, stages) in ResNet.arch_settings.items()
}


class BackboneError(ValueError):
    """The checkpoint holds no backbone, or an incomplete or unknown one."""


@lru_cache(maxsize=None)
def _built_resnet_keys(depth: int) -> Tuple[str, ...]:
    return tuple(ResNet(depth=depth).state_dict())


def expected_resnet_keys(depth: int) -> Dict[str, None]:
    """Every parameter and buffer name of an mmpretrain / torchvision ResNet of ``depth``, in
    the order of its state dict (read from a built mmpretrain ``ResNet``, once per depth).

    Args:
        depth (int): One of the depths of :data:`RESNET_STAGE_BLOCKS` (18, 34, 50, 101, 152).

    Raises:
        KeyError: ``depth`` is no ResNet depth.
    """
    if depth not in RESNET_STAGE_BLOCKS:
        raise KeyError(f'no ResNet of depth {depth}: mmpretrain\'s ResNet has depths '
                       f'{sorted(RESNET_STAGE_BLOCKS)}')
    return dict.fromkeys(_built_resnet_keys(depth))


def infer_resnet_depth(state: Dict[str, torch.Tensor]) -> Tuple[int, str]:
    """Depth from the blocks per stage (highest block index + 1) and the block kind."""
    blocks = [1 + max((int(m.group(1)) for k in state
                       for m in [re.match(rf'layer{s}\.(\d+)\.', k)] if m), default=-1)
              for s in (1, 2, 3, 4)]
    kind = 'bottleneck' if any('.conv3.' in k for k in state) else 'basic'
    for depth, (arch_kind, arch_blocks) in RESNET_STAGE_BLOCKS.items():
        if arch_kind == kind and tuple(blocks) == arch_blocks:
            return depth, kind
    raise BackboneError(f'the backbone is no complete ResNet: {kind} blocks per stage {blocks}')


def check_complete_resnet(state: Dict[str, torch.Tensor]) -> int:
    """Raise :class:`BackboneError` unless ``state`` is a whole ResNet; return its depth.

    BN's ``num_batches_tracked`` counters may be absent: detectron2 files do not carry them,
    and torch fills them in when a state dict without them is loaded.
    """
    depth, _ = infer_resnet_depth(state)
    expected = [k for k in expected_resnet_keys(depth) if not k.endswith('num_batches_tracked')]
    missing = [k for k in expected if k not in state]
    if missing:
        raise BackboneError(f'the ResNet-{depth} backbone misses {len(missing)} of '
                            f'{len(expected)} tensors, e.g. {missing[:5]}')
    return depth


def check_standard_stem(state: Dict[str, torch.Tensor]) -> None:
    """Raise :class:`BackboneError` unless the stem is torchvision's: a 7 x 7 ``conv1``.

    torchvision's and detectron2's ResNets have a 7 x 7 stride-2 convolution and a max-pool in
    their stem; mmpretrain's ``ResNet_CIFAR`` (the small-image stem) has a 3 x 3 stride-1
    ``conv1`` and no max-pool, which those models cannot load (and stride and pooling are not in
    the weights at all).

    Args:
        state (dict): The backbone's tensors under torchvision names.
    """
    shape = tuple(state['conv1.weight'].shape)
    if shape[-2:] != (7, 7):
        k = shape[-1]
        raise BackboneError(
            f'the backbone has a non-standard stem: conv1 is {shape[-2]} x {k} (e.g. '
            f'mmpretrain\'s ResNet_CIFAR: 3 x 3, stride 1, no max-pool), while torchvision\'s '
            f'and detectron2\'s ResNets have a 7 x 7 stride-2 conv1 and a max-pool and cannot '
            f'load it. Use --to mmdet for mmdet / mmpretrain configs with the same backbone, or '
            f'pass --allow-nonstandard-stem and give the model the same stem before loading '
            f'(torchvision: conv1 = nn.Conv2d(3, 64, {k}, 1, {k // 2}, bias=False), '
            f'maxpool = nn.Identity())')
