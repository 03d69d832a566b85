"""Match a checkpoint's state dict to a module: find its weights, list what it does not cover.

mmengine loads weights with ``strict=False`` and only warns about missing keys, so a checkpoint
that lacks part of a model leaves that part randomly initialised (and, for a frozen backbone,
random for good). The functions here find the tensors meant for a module in the known layouts
and say exactly which of the module's tensors a checkpoint leaves out.
"""
import re
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn

PRETRAIN_PREFIX = 'backbone.'


class CheckpointKeysError(ValueError):
    """A checkpoint does not hold every tensor of the module it should initialise."""


def checkpoint_state_dict(checkpoint) -> 'OrderedDict[str, object]':
    """The state dict of a loaded checkpoint, with DataParallel's ``module.`` prefix removed
    (as mmengine's ``load_checkpoint`` does).

    Args:
        checkpoint: A loaded checkpoint (``{'state_dict': ...}``) or a bare state dict.

    Raises:
        CheckpointKeysError: the checkpoint holds no dict of tensors.
    """
    state = checkpoint.get('state_dict', checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict):
        raise CheckpointKeysError(f'the checkpoint holds no state dict (found '
                                  f'{type(state if state is not None else checkpoint).__name__})')
    return OrderedDict((re.sub(r'^module\.', '', k), v) for k, v in state.items())


def with_prefix(state: Dict[str, object], prefix: str) -> 'OrderedDict[str, object]':
    """The entries of ``state`` under ``prefix``, with the prefix removed ('' keeps all).

    Args:
        state (dict): A state dict.
        prefix (str): A key prefix such as 'backbone.'.
    """
    return OrderedDict((k[len(prefix):], v) for k, v in state.items() if k.startswith(prefix))


def key_groups(state: Dict[str, object]) -> List[str]:
    """The first name piece of every key, sorted (e.g. ['backbone', 'heads', 'neck']).

    Args:
        state (dict): A state dict.
    """
    return sorted({k.split('.')[0] for k in state})


def uncovered(module: nn.Module, state: Dict[str, object]) -> Tuple[List[str], List[str]]:
    """The module's tensors that ``state`` does not provide.

    BN's ``num_batches_tracked`` counters may be absent (torch fills them in on loading, and
    detectron2 files do not carry them).

    Args:
        module (nn.Module): The module to initialise.
        state (dict): The state dict meant for it (its own names).

    Returns:
        tuple[list, list]: Missing keys, and ``'key: file shape vs model shape'`` for tensors
        whose shape differs.
    """
    missing, mismatched = [], []
    for key, value in module.state_dict().items():
        if key not in state:
            if not key.endswith('num_batches_tracked'):
                missing.append(key)
        elif isinstance(state[key], torch.Tensor) and state[key].shape != value.shape:
            mismatched.append(f'{key}: {tuple(state[key].shape)} in the file, '
                              f'{tuple(value.shape)} in the model')
    return missing, mismatched


def describe_uncovered(module: nn.Module, missing: Sequence[str],
                       mismatched: Sequence[str], limit: int = 8) -> str:
    """'3 of 122 tensors are missing: a, b, c' (and shape mismatches), for error messages.

    Args:
        module (nn.Module): The module that was to be initialised.
        missing (list[str]): Its keys the checkpoint lacks.
        mismatched (list[str]): Shape mismatches, as :func:`uncovered` writes them.
        limit (int): How many of each to name. Defaults to 8.
    """
    total = sum(1 for k in module.state_dict() if not k.endswith('num_batches_tracked'))
    parts = []
    if missing:
        more = f' and {len(missing) - limit} more' if len(missing) > limit else ''
        parts.append(f'{len(missing)} of its {total} tensors are missing: '
                     f'{", ".join(missing[:limit])}{more}')
    if mismatched:
        more = f' and {len(mismatched) - limit} more' if len(mismatched) > limit else ''
        parts.append(f'{len(mismatched)} have another shape: {"; ".join(mismatched[:limit])}'
                     f'{more}')
    return '; '.join(parts)


def find_module_state(module: nn.Module, state: Dict[str, object],
                      prefix: Optional[str] = None) -> Tuple['OrderedDict[str, object]', str]:
    """The part of ``state`` that initialises ``module``, in the known layouts.

    Tried in order: the keys under ``prefix`` (all keys when it is None); then the other known
    layout: a pretraining checkpoint's ``backbone.*`` keys when no prefix was given (what
    ``tools/convert_weights.py --to mmdet`` would extract), or the keys as they are (a converted
    backbone file) when the prefix finds nothing complete.

    Args:
        module (nn.Module): The module to initialise.
        state (dict): The checkpoint's state dict (:func:`checkpoint_state_dict`).
        prefix (str, optional): The prefix the config names. Defaults to None.

    Returns:
        tuple[OrderedDict, str]: The module's tensors under its own names, and '' when they were
        found where the config said, or else a sentence saying which layout was used.

    Raises:
        CheckpointKeysError: no layout covers the module; says what is missing and which key
            groups the file holds.
    """
    prefix = prefix or ''
    if prefix and not prefix.endswith('.'):  # as mmengine reads it
        prefix += '.'
    layouts = [(prefix, '')]
    if prefix:
        layouts.append(('', f'it has no complete "{prefix}*" weights but holds the module\'s '
                            f'tensors under their own names (a converted backbone); loading those'))
    elif any(k.startswith(PRETRAIN_PREFIX) for k in state):
        layouts.append((PRETRAIN_PREFIX, f'it is a pretraining checkpoint: loading its '
                                         f'"{PRETRAIN_PREFIX}*" weights, as '
                                         f'tools/convert_weights.py --to mmdet would'))
    best = None
    for layout_prefix, note in layouts:
        candidate = with_prefix(state, layout_prefix)
        missing, mismatched = uncovered(module, candidate)
        if not missing and not mismatched:
            return candidate, note
        if candidate and (best is None or len(missing) + len(mismatched) < best[0]):
            best = (len(missing) + len(mismatched), layout_prefix, missing, mismatched)
    tried = ' and '.join(f'"{p}*"' if p else 'their own names' for p, _ in layouts)
    name = type(module).__name__
    if best is None:
        raise CheckpointKeysError(f'it holds none of the {name}\'s tensors (looked under {tried}); '
                                  f'its keys start with: {key_groups(state)[:12]}')
    _, layout_prefix, missing, mismatched = best
    if len(layouts) > 1:
        tried += ', closest: ' + (f'"{layout_prefix}*"' if layout_prefix else 'their own names')
    raise CheckpointKeysError(
        f'it does not hold the whole {name} (looked under {tried}): '
        f'{describe_uncovered(module, missing, mismatched)}. Its keys start with: '
        f'{key_groups(state)[:12]}')
