"""Extract a pretrained ResNet backbone and check it is complete."""
import re
from collections import OrderedDict
from typing import Dict, Tuple

import torch

# mmpretrain's ResNet.arch_settings: depth -> (block kind, blocks per stage)
RESNET_STAGE_BLOCKS = {
    18: ('basic', (2, 2, 2, 2)),
    34: ('basic', (3, 4, 6, 3)),
    50: ('bottleneck', (3, 4, 6, 3)),
    101: ('bottleneck', (3, 4, 23, 3)),
    152: ('bottleneck', (3, 8, 36, 3)),
}


class BackboneError(ValueError):
    """The checkpoint holds no backbone, or an incomplete or unknown one."""


def backbone_state_dict(checkpoint: dict, prefix: str = 'backbone.') -> 'OrderedDict[str, torch.Tensor]':
    """The ``prefix``-ed tensors of a checkpoint's state dict, with the prefix removed."""
    state = checkpoint.get('state_dict', checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict):
        raise BackboneError('the checkpoint holds no state dict')
    backbone = OrderedDict((k[len(prefix):], v) for k, v in state.items()
                           if k.startswith(prefix) and isinstance(v, torch.Tensor))
    if not backbone:
        raise BackboneError(f'the checkpoint has no "{prefix}*" weights (keys start with: '
                            f'{sorted({k.split(".")[0] for k in state})[:8]})')
    return backbone


def expected_resnet_keys(depth: int) -> Dict[str, None]:
    """Every parameter and buffer name of an mmpretrain / torchvision ResNet of ``depth``."""
    kind, stages = RESNET_STAGE_BLOCKS[depth]
    convs = 3 if kind == 'bottleneck' else 2
    bn = ('weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked')
    keys = ['conv1.weight'] + [f'bn1.{b}' for b in bn]
    for stage, blocks in enumerate(stages, start=1):
        for block in range(blocks):
            base = f'layer{stage}.{block}'
            for conv in range(1, convs + 1):
                keys.append(f'{base}.conv{conv}.weight')
                keys += [f'{base}.bn{conv}.{b}' for b in bn]
            if block == 0 and (stage > 1 or kind == 'bottleneck'):
                keys.append(f'{base}.downsample.0.weight')
                keys += [f'{base}.downsample.1.{b}' for b in bn]
    return dict.fromkeys(keys)


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
    """Raise :class:`BackboneError` unless ``state`` is a whole ResNet; return its depth."""
    depth, _ = infer_resnet_depth(state)
    expected = expected_resnet_keys(depth)
    missing = [k for k in expected if k not in state]
    if missing:
        raise BackboneError(f'the ResNet-{depth} backbone misses {len(missing)} of '
                            f'{len(expected)} tensors, e.g. {missing[:5]}')
    return depth
