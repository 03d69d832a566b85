"""Write a ResNet backbone state dict for mmdet / mmpretrain, torchvision, timm, detectron2.

mmdet's, mmpretrain's and timm's ``ResNet`` use torchvision's names. detectron2's differ only in
a few name pieces, kept in one ordered table (:data:`NAME_PIECES`) that both directions read, so
that the two conversions cannot drift apart.
"""
import re
from collections import OrderedDict
from typing import Callable, Dict, Iterable, Tuple

import torch

# (torchvision piece, detectron2 piece). A piece starting with '^' begins a name (the stem and
# the stage); the others stand right after a '.' (inside a block). The stem's BN is
# 'stem.conv1.norm' while a block's is 'convK.norm': the '^' rows keep them apart.
NAME_PIECES: Tuple[Tuple[str, str], ...] = (
    ('^conv1.', '^stem.conv1.'),
    ('^bn1.', '^stem.conv1.norm.'),
    ('^layer1.', '^res2.'),
    ('^layer2.', '^res3.'),
    ('^layer3.', '^res4.'),
    ('^layer4.', '^res5.'),
    ('bn1.', 'conv1.norm.'),
    ('bn2.', 'conv2.norm.'),
    ('bn3.', 'conv3.norm.'),
    ('downsample.0.', 'shortcut.'),
    ('downsample.1.', 'shortcut.norm.'),
)


def _renamer(pairs: Iterable[Tuple[str, str]], kind: str) -> Callable[[str], str]:
    """A function renaming every piece of a name once, from ``(source, target)`` pairs.

    Args:
        pairs: ``(source piece, target piece)`` rows of :data:`NAME_PIECES`, in one direction.
        kind (str): What the source names are, for the error message.

    Returns:
        Callable: name -> renamed name; raises ``KeyError`` for a name that does not begin with
        one of the '^' pieces (not a ResNet backbone name).
    """
    table = {(source.startswith('^'), source.lstrip('^')): target.lstrip('^')
             for source, target in pairs}
    # One pass, longest piece first: 'shortcut.norm.' before 'shortcut.', and no piece is
    # renamed twice ('bn1.' -> 'stem.conv1.norm.' is not then read as a block's 'conv1.norm.').
    pieces = sorted({piece for _, piece in table}, key=len, reverse=True)
    pattern = re.compile(r'(?:^|(?<=\.))(?:' + '|'.join(map(re.escape, pieces)) + ')')
    starts = tuple(piece for at_start, piece in table if at_start)

    def rename(name: str) -> str:
        if not name.startswith(starts):
            raise KeyError(f'not a {kind} ResNet key: {name}')
        return pattern.sub(
            lambda m: table.get((m.start() == 0, m.group(0)), m.group(0)), name)

    return rename


_detectron2_name = _renamer(NAME_PIECES, 'torchvision')
_torchvision_name = _renamer([(d2, tv) for tv, d2 in NAME_PIECES], 'detectron2')


def torchvision_name(name: str) -> str:
    """A detectron2 ResNet name (``stem.*``, ``res2.*``-``res5.*``) under torchvision's names.

    Args:
        name (str): The detectron2 name, without any prefix.

    Raises:
        KeyError: ``name`` is no detectron2 ResNet name.
    """
    return _torchvision_name(name)


def to_mmdet(state: Dict[str, torch.Tensor]) -> dict:
    """A checkpoint whose state dict is the backbone alone, as ``init_cfg=Pretrained`` loads it
    into mmdet's / mmpretrain's ``ResNet`` (same names as torchvision).

    Args:
        state (dict): The backbone's tensors under torchvision names.
    """
    return {'state_dict': OrderedDict(state), 'meta': {'converted_by': 'mejigclu_mm'}}


def to_torchvision(state: Dict[str, torch.Tensor]) -> 'OrderedDict[str, torch.Tensor]':
    """A state dict for ``torchvision.models.resnet*`` (only ``fc`` missing).

    Args:
        state (dict): The backbone's tensors under torchvision names.
    """
    return OrderedDict(state)


def to_timm(state: Dict[str, torch.Tensor]) -> dict:
    """A checkpoint that ``timm.create_model('resnetD', num_classes=0, checkpoint_path=...)``
    loads strictly: timm's ResNet has torchvision's names, and its loader takes ``state_dict``.

    There is no classifier in it (a pretraining has none): ``num_classes=0`` builds timm's
    ResNet without ``fc``; for a new classifier build it with ``num_classes=N`` and load with
    ``timm.models.load_checkpoint(model, path, strict=False)`` (only ``fc`` missing).

    Args:
        state (dict): The backbone's tensors under torchvision names.
    """
    return {'state_dict': OrderedDict(state), 'meta': {'converted_by': 'mejigclu_mm'}}


def to_detectron2(state: Dict[str, torch.Tensor]) -> dict:
    """detectron2's pickle layout: numpy arrays under detectron2 names, BN counters dropped.

    Args:
        state (dict): The backbone's tensors under torchvision names.
    """
    model = OrderedDict((_detectron2_name(k), v.detach().cpu().numpy())
                        for k, v in state.items() if not k.endswith('num_batches_tracked'))
    return {'model': model, '__author__': 'mejigclu_mm', 'matching_heuristics': True}


def from_detectron2(model: Dict[str, object]) -> 'OrderedDict[str, torch.Tensor]':
    """detectron2 names -> torchvision names (the inverse of :func:`to_detectron2`).

    Args:
        model (dict): The ``model`` entry of a detectron2 checkpoint (arrays or tensors).
    """
    return OrderedDict((torchvision_name(k), torch.as_tensor(v)) for k, v in model.items())
