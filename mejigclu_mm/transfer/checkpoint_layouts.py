"""Find the backbone in a checkpoint of any of the field's layouts: one resolver for every loader.

People bring ResNet weights saved by many programs:

- ours: pretraining checkpoints (``state_dict`` with ``backbone.*``, ``neck.*``, ``heads.*``,
  plus ``meta``, ``message_hub``, ``optimizer``) and converted files (the backbone alone);
- mmpretrain / mmselfsup / mmdet checkpoints (``backbone.*``; MoCo-style algorithms also keep a
  momentum copy, e.g. ``momentum_encoder.module.0.*``);
- the official JigClu script: ``{'epoch', 'arch', 'state_dict', 'optimizer'}`` with
  ``module.encoder.<torchvision names>`` and its heads ``module.encoder.fc_clu.*`` /
  ``fc_loc.*``; the official MoCo script: ``module.encoder_q.*`` (query encoder),
  ``module.encoder_k.*`` (momentum encoder), ``module.queue``;
- torchvision state dicts (with ``fc.*``);
- detectron2 pickles: ``model`` of numpy arrays under ``stem.*`` / ``res2-5.*``, in a detector
  under ``backbone.bottom_up.``.

:func:`read_checkpoint_weights` reads any of them into names as the file stores them
(detectron2's ResNet names read as torchvision's, their prefix kept); :func:`resolve_backbone`
finds where the backbone stands. A prefix means the same everywhere: the keys as stored in the
file (``module.encoder.`` for the official JigClu file, ``backbone.`` for ours, ``''`` for a
backbone alone). Without one, the backbone is found when only one stands in the file, leaving
out momentum copies and aliases of the same weights; otherwise the file is refused with the
candidate prefixes listed. Only the backbone's tensors are taken; the rest is listed as
dropped, and NaN / Inf weights are refused. A ResNet of another depth of the same block kind as
the module (ResNet-34 for a ResNet-18, ResNet-101 for a ResNet-50) is refused naming both depths:
its first blocks of each stage would fit the module and the rest be dropped.
"""
import re
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from mejigclu_mm.runtime import load_checkpoint_file
from mejigclu_mm.transfer.finite_weights import check_finite
from mejigclu_mm.transfer.formats import torchvision_name
from mejigclu_mm.transfer.resnet_keys import RESNET_STAGE_BLOCKS, BackboneError, infer_resnet_depth
from mejigclu_mm.transfer.state_match import describe_uncovered, key_groups, uncovered, with_prefix

# A ResNet's tensors under torchvision's (and mmpretrain's, mmdet's) names.
RESNET_NAME = re.compile(r'(conv1|bn1|layer[1-4])\.')
RESNET_ANCHOR, RESNET_STEM = 'layer1.0.conv1.weight', 'conv1.weight'
DETECTRON2_ANCHOR, DETECTRON2_STEM = 'res2.0.conv1.weight', 'stem.conv1.weight'
# Name pieces of the momentum (EMA) copies that MoCo-style methods keep beside the network
# trained by gradient: MoCo's encoder_k, mmpretrain's momentum_encoder / target_net (BYOL) /
# momentum_base_encoder (MoCo v3), a DINO-style teacher.
MOMENTUM_COPIES = ('encoder_k', 'momentum_encoder', 'momentum_base_encoder', 'target_net',
                   'teacher')


class CheckpointLayoutError(ValueError):
    """No backbone, several with no prefix to choose, or none under the prefix given."""


@dataclass
class CheckpointWeights:
    """The weights of a checkpoint file.

    Args:
        path (str): The file.
        tensors (OrderedDict): Name -> tensor, names as stored (detectron2 ResNet names read
            as torchvision's, their prefix kept).
        stored_names (dict): Read name -> stored name, where they differ (detectron2).
        others (list[str]): Entries of the file that are no weights (optimizer, meta, ...).
        note (str): Which of several sets of weights these are (EMA), '' when there is one.
    """
    path: str
    tensors: 'OrderedDict[str, torch.Tensor]'
    stored_names: Dict[str, str] = field(default_factory=dict)
    others: List[str] = field(default_factory=list)
    note: str = ''

    def stored(self, name: str) -> str:
        """The name under which the file stores ``name``."""
        return self.stored_names.get(name, name)


@dataclass
class BackboneWeights:
    """A backbone found in a checkpoint.

    Args:
        path (str): The file.
        prefix (str): Where it stands, as stored in the file ('' for the top level).
        state (OrderedDict): Its tensors under its own names (torchvision's for a ResNet).
        dropped (dict): Group of the file's other tensors -> how many (e.g. 'neck': 2).
        others (list[str]): Entries of the file that are no weights.
        note (str): Why this prefix when several were possible ('' otherwise).
    """
    path: str
    prefix: str
    state: 'OrderedDict[str, torch.Tensor]'
    dropped: Dict[str, int]
    others: List[str]
    note: str = ''

    def dropped_text(self) -> str:
        """'neck.* (2 tensors), heads.* (8 tensors); other entries: meta, optimizer'."""
        parts = ', '.join(f'{group}.* ({count} tensor{"s" * (count != 1)})'
                          for group, count in self.dropped.items())
        text = parts or 'no other tensors'
        if self.others:
            text += f'; other entries: {", ".join(self.others)}'
        return text


def _as_tensor(value) -> Optional[torch.Tensor]:
    if torch.is_tensor(value):
        return value
    if isinstance(value, np.ndarray) and value.dtype.kind in 'biufc':
        return torch.from_numpy(np.array(value, order='C'))  # keeps 0-d arrays 0-d
    return None


def _detectron2_prefixes(names: Sequence[str]) -> List[str]:
    names = set(names)
    return [name[:-len(DETECTRON2_ANCHOR)] for name in sorted(names)
            if name.endswith(DETECTRON2_ANCHOR) and _is_prefix(name[:-len(DETECTRON2_ANCHOR)])
            and name[:-len(DETECTRON2_ANCHOR)] + DETECTRON2_STEM in names]


def _is_prefix(prefix: str) -> bool:
    return prefix == '' or prefix.endswith('.')


EMA_CHOICES = ('averaged', 'trained')


def _ema_choice(checkpoint: dict, path: str, ema: Optional[str]):
    """(state dict, note) of a checkpoint saved with mmengine's ``EMAHook``, else None.

    The hook swaps when saving: ``state_dict`` holds the EMA (averaged) weights and
    ``ema_state_dict`` the weights trained by gradient (under ``module.``).
    """
    ema_state = checkpoint.get('ema_state_dict')
    if not isinstance(ema_state, dict) or not isinstance(checkpoint.get('state_dict'), dict):
        if ema == 'trained':
            raise CheckpointLayoutError(f'{path} holds no ema_state_dict (mmengine\'s EMAHook): '
                                        f'its state_dict holds the only weights; drop --ema')
        return None
    if ema not in (None, *EMA_CHOICES):
        raise CheckpointLayoutError(f'ema={ema!r}: choose one of {EMA_CHOICES}')
    swapped = [k[len('module.'):] for k in ema_state if k.startswith('module.')]
    if ema == 'trained':
        state = OrderedDict(checkpoint['state_dict'])
        state.update((k, ema_state['module.' + k]) for k in swapped if k in state)
        return state, (f'took the weights trained by gradient from ema_state_dict ({len(swapped)} '
                       f'tensors; mmengine\'s EMAHook swapped them out of state_dict, which holds '
                       f'the EMA ones: --ema averaged takes those)')
    return checkpoint['state_dict'], (
        f'took the EMA (averaged) weights: mmengine\'s EMAHook swapped them into state_dict when '
        f'saving; ema_state_dict holds the weights trained by gradient ({len(swapped)} tensors: '
        f'--ema trained takes those)')


def checkpoint_weights(checkpoint, path: str, ema: Optional[str] = None) -> CheckpointWeights:
    """The weights of a loaded checkpoint (see :class:`CheckpointWeights`).

    The weights are the ``state_dict`` entry, else the ``model`` entry (detectron2), else the
    dict itself (a bare state dict). A checkpoint of mmengine's ``EMAHook`` holds two sets:
    after the hook's swap ``state_dict`` holds the EMA weights, ``ema_state_dict`` those trained
    by gradient; which were taken is said in :attr:`CheckpointWeights.note`.

    Args:
        checkpoint: What :func:`~mejigclu_mm.runtime.load_checkpoint_file` returned.
        path (str): The file, for messages.
        ema (str, optional): With an ``ema_state_dict``: 'averaged' (the EMA weights, also the
            default None) or 'trained' (the weights trained by gradient).

    Raises:
        CheckpointLayoutError: no dict of tensors in it; ``ema='trained'`` without EMA weights.
    """
    if not isinstance(checkpoint, dict):
        raise CheckpointLayoutError(f'{path} holds a {type(checkpoint).__name__}, not a dict of '
                                    f'weights')
    state, others, note = checkpoint, [], ''
    chosen = _ema_choice(checkpoint, path, ema)
    for container in ('state_dict', 'model'):
        if isinstance(checkpoint.get(container), dict):
            state = checkpoint[container]
            others = [str(key) for key in checkpoint if key != container]
            break
    if chosen is not None:
        state, note = chosen
        others = [key for key in others if key != 'ema_state_dict']
    tensors = OrderedDict()
    for name, value in state.items():
        tensor = _as_tensor(value)
        if tensor is None:
            others.append(str(name))
        else:
            tensors[str(name)] = tensor
    if not tensors:
        raise CheckpointLayoutError(f'{path} holds no weights: its entries are '
                                    f'{[str(k) for k in checkpoint][:12]}')
    stored_names = {}
    for prefix in _detectron2_prefixes(list(tensors)):
        renamed = OrderedDict()
        for name, tensor in tensors.items():
            read = _detectron2_read_name(name, prefix)
            if read != name:
                stored_names[read] = name
            renamed[read] = tensor
        tensors = renamed
    return CheckpointWeights(path, tensors, stored_names, others, note)


def _detectron2_read_name(name: str, prefix: str) -> str:
    """``name`` with the detectron2 ResNet part after ``prefix`` under torchvision's names."""
    if not name.startswith(prefix):
        return name
    try:
        return prefix + torchvision_name(name[len(prefix):])
    except KeyError:  # not part of the ResNet (e.g. an FPN or head tensor of a detector)
        return name


def read_checkpoint_weights(path: str, map_location='cpu',
                            ema: Optional[str] = None) -> CheckpointWeights:
    """Read a checkpoint file of any layout with the safe loader (see :class:`CheckpointWeights`).

    Args:
        path (str): The file.
        map_location: As for ``torch.load``. Defaults to 'cpu'.
        ema (str, optional): See :func:`checkpoint_weights`.
    """
    return checkpoint_weights(load_checkpoint_file(path, map_location), str(path), ema)


def _normalise(prefix: str) -> str:
    return prefix if _is_prefix(prefix) else prefix + '.'  # as mmengine reads a prefix


def _quoted(prefixes: Sequence[str]) -> str:
    return ', '.join(f'"{prefix}"' for prefix in prefixes)


def _is_momentum_copy(prefix: str) -> bool:
    return any(piece in MOMENTUM_COPIES for piece in prefix.rstrip('.').split('.'))


def _same_weights(weights: CheckpointWeights, first: str, other: str, names) -> bool:
    tensors = weights.tensors
    return all(other + name in tensors and torch.equal(tensors[first + name], tensors[other + name])
               for name in names)


class _Target:
    """What is looked for: a ResNet of any depth, or the tensors of a given module."""

    def __init__(self, module: Optional[nn.Module]):
        self.module = module
        self.required = None if module is None else [
            key for key in module.state_dict() if not key.endswith('num_batches_tracked')]
        self.wanted = None if module is None else set(module.state_dict())
        self.what = 'ResNet' if module is None else type(module).__name__

    def takes(self, rest: str) -> bool:
        return bool(RESNET_NAME.match(rest)) if self.module is None else rest in self.wanted

    def prefixes(self, names: Sequence[str]) -> List[str]:
        """Where the target might stand: prefixes before its anchor name."""
        anchor = RESNET_ANCHOR if self.module is None else self.required[0]
        found = set(names)
        return [name[:-len(anchor)] for name in names
                if name.endswith(anchor) and _is_prefix(name[:-len(anchor)])
                and (self.module is not None or name[:-len(anchor)] + RESNET_STEM in found)]

    def missing(self, weights: CheckpointWeights, prefix: str) -> Tuple[List[str], List[str]]:
        """The module's tensors the file lacks under ``prefix``, and shape mismatches."""
        if self.module is None:
            return [], []
        return uncovered(self.module, with_prefix(weights.tensors, prefix))


def _refuse_prefix(weights: CheckpointWeights, target: _Target, prefix: str,
                   complete: List[str]) -> CheckpointLayoutError:
    """The error for an explicit prefix under which the target does not stand whole."""
    where = (f'the {target.what} stands under {_quoted(complete)}' if complete else
             f'its keys start with: {key_groups(weights.tensors)[:12]}')
    if not any(name.startswith(prefix) for name in weights.tensors):
        return CheckpointLayoutError(
            f'no key of {weights.path} starts with the prefix "{prefix}" (a prefix is the keys '
            f'as stored in the file); {where}')
    missing, mismatched = target.missing(weights, prefix)
    if missing or mismatched:
        detail = describe_uncovered(target.module, missing, mismatched)
        return CheckpointLayoutError(f'{weights.path} does not hold the whole {target.what} '
                                     f'under "{prefix}": {detail}; {where}')
    return CheckpointLayoutError(f'{weights.path} holds no ResNet under "{prefix}" (no '
                                 f'"{prefix}{RESNET_STEM}" and "{prefix}{RESNET_ANCHOR}"); {where}')


def _choose(weights: CheckpointWeights, target: _Target,
            prefix: Optional[str]) -> Tuple[str, str, List[str]]:
    """The prefix to take, a note when others were left out, and every complete candidate."""
    found = target.prefixes(list(weights.tensors))
    complete = [p for p in found if not any(target.missing(weights, p))]
    if prefix is not None:
        prefix = _normalise(prefix)
        if prefix in complete:
            return prefix, '', complete
        raise _refuse_prefix(weights, target, prefix, complete)
    if len(complete) == 1:
        return complete[0], '', complete
    if not complete:
        raise _nothing_found(weights, target, found)
    # The network trained by gradient, and of aliases of the same weights the shortest name.
    online = sorted([p for p in complete if not _is_momentum_copy(p)] or complete, key=len)
    names = [name[len(online[0]):] for name in weights.tensors
             if name.startswith(online[0]) and target.takes(name[len(online[0]):])]
    if all(_same_weights(weights, online[0], other, names) for other in online[1:]):
        left = [p for p in complete if p != online[0]]
        copies = [p for p in left if _is_momentum_copy(p)]
        aliases = [p for p in left if p not in copies]
        notes = ([f'left out the momentum copy under {_quoted(copies)}'] if copies else []) + \
            ([f'the same weights also stand under {_quoted(aliases)}'] if aliases else [])
        return online[0], '; '.join(notes), complete
    raise CheckpointLayoutError(
        f'{weights.path} holds {len(complete)} {target.what}s, under {_quoted(complete)}: say '
        f'which to take with a prefix, the keys as stored in the file (--prefix P for the tools, '
        f'init_cfg=dict(..., prefix=P) in a config)')


def _nothing_found(weights: CheckpointWeights, target: _Target,
                   found: List[str]) -> CheckpointLayoutError:
    groups = key_groups(weights.tensors)[:12]
    if target.module is None or not found:
        return CheckpointLayoutError(
            f'{weights.path} holds no {target.what} (no "conv1.*" and "layer1-4.*" weights of '
            f'torchvision\'s, mmpretrain\'s or detectron2\'s names under one prefix); its keys '
            f'start with: {groups}')
    best = min(found, key=lambda p: sum(map(len, target.missing(weights, p))))
    missing, mismatched = target.missing(weights, best)
    return CheckpointLayoutError(
        f'{weights.path} does not hold the whole {target.what} (closest: under "{best}"): '
        f'{describe_uncovered(target.module, missing, mismatched)}. Its keys start with: '
        f'{groups}')


def _resnet_depth(state) -> Optional[Tuple[int, str]]:
    """(depth, block kind) of the ResNet whose torchvision names ``state`` holds, else None."""
    try:
        return infer_resnet_depth(state)
    except BackboneError:
        return None


def _check_depth(weights: CheckpointWeights, module: nn.Module, prefixes: Sequence[str]) -> None:
    """Refuse a ResNet of another depth but the same block kind as ``module`` under a prefix.

    Of another block kind the shapes differ, which the missing-tensor check reports.

    Raises:
        CheckpointLayoutError: naming both depths.
    """
    model = _resnet_depth(module.state_dict())
    if model is None:
        return
    for prefix in prefixes:
        found = _resnet_depth(with_prefix(weights.tensors, prefix))
        if found is None or found[1] != model[1] or found[0] == model[0]:
            continue
        stages = {depth: RESNET_STAGE_BLOCKS[depth][1] for depth in (found[0], model[0])}
        raise CheckpointLayoutError(
            f'{weights.path} holds a ResNet-{found[0]} under "{prefix}" ({found[1]} blocks per '
            f'stage {list(stages[found[0]])}) and the model\'s {type(module).__name__} is a '
            f'ResNet-{model[0]} ({list(stages[model[0]])}): a backbone checkpoint must be of the '
            f'model\'s depth (loading it would keep the first blocks of each stage and drop the '
            f'rest). Set the model\'s depth to {found[0]} (e.g. --cfg-options '
            f'model.backbone.depth={found[0]}) or give a ResNet-{model[0]} checkpoint')


def _group(name: str, prefix: str, others: Sequence[str]) -> str:
    """The group a dropped tensor is listed under: 'module.encoder.fc_clu', 'neck', ...

    Under the chosen prefix: the next name piece (two for a piece of the ResNet's own, e.g.
    'stem.fc'); under another candidate: that candidate; elsewhere: the pieces it shares with
    the chosen prefix and one more (``module.queue``, ``backbone.fpn_lateral2``, ``neck``).
    """
    if name.startswith(prefix):
        pieces = name[len(prefix):].split('.')
        own = pieces[0] == 'stem' or re.fullmatch(r'(layer|res)\d', pieces[0])
        return prefix + '.'.join(pieces[:2 if own and len(pieces) > 2 else 1])
    for other in others:
        if other and name.startswith(other):
            return other.rstrip('.')
    pieces, shared = name.split('.'), prefix.rstrip('.').split('.')
    common = 0
    while common < min(len(pieces) - 1, len(shared)) and pieces[common] == shared[common]:
        common += 1
    return '.'.join(pieces[:common + 1])


def resolve_backbone(weights: CheckpointWeights, prefix: Optional[str] = None,
                     module: Optional[nn.Module] = None) -> BackboneWeights:
    """Find the backbone in ``weights`` and take its tensors.

    Args:
        weights (CheckpointWeights): From :func:`read_checkpoint_weights`.
        prefix (str, optional): Where the backbone stands, the keys as stored in the file
            ('' for the top level; a missing final '.' is added, as mmengine does). Defaults
            to None: found automatically.
        module (nn.Module, optional): The module to initialise: all of its tensors (BN counters
            aside) must be there, with its shapes. Defaults to None: a ResNet of any depth
            (check it with :func:`~mejigclu_mm.transfer.check_complete_resnet`).

    Returns:
        BackboneWeights: The tensors under the backbone's own names, and what was dropped.

    Raises:
        CheckpointLayoutError: no backbone, several and no prefix, or none under ``prefix``.
        NonFiniteCheckpointError: some of its tensors are NaN or Inf.
    """
    target = _Target(module)
    try:
        chosen, note, complete = _choose(weights, target, prefix)
    except CheckpointLayoutError:
        if module is not None:  # a file of another depth says so rather than what is missing
            _check_depth(weights, module, [_normalise(prefix)] if prefix is not None else
                         _Target(None).prefixes(list(weights.tensors)))
        raise
    if module is not None:
        _check_depth(weights, module, [chosen])
    state = OrderedDict()
    dropped = Counter()
    candidates = sorted(set(complete) - {chosen}, key=len, reverse=True)
    for name, tensor in weights.tensors.items():
        rest = name[len(chosen):]
        if name.startswith(chosen) and target.takes(rest):
            state[rest] = tensor
        else:
            dropped[_group(weights.stored(name), chosen, candidates)] += 1
    check_finite({weights.stored(chosen + name): value for name, value in state.items()},
                 weights.path)
    note = '; '.join(part for part in (weights.note, note) if part)
    return BackboneWeights(weights.path, chosen, state, dict(dropped), list(weights.others), note)
