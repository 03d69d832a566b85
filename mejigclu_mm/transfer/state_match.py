"""Match a state dict to a module: say exactly which of the module's tensors it leaves out.

mmengine loads weights with ``strict=False`` and only warns about missing keys, so a checkpoint
that lacks part of a model leaves that part randomly initialised (and, for a frozen backbone,
random for good). Finding the module's tensors in the field's layouts is
:mod:`mejigclu_mm.transfer.checkpoint_layouts`'s job.
"""
import re
from collections import OrderedDict
from typing import Dict, List, Sequence, Tuple

import torch
from torch import nn


def without_ddp_prefix(state: Dict[str, object]) -> 'OrderedDict[str, object]':
    """``state`` with DataParallel's ``module.`` prefix removed, as mmengine's
    ``load_checkpoint`` (``load_from``, ``tools/test.py``) reads a whole model's weights.

    Args:
        state (dict): A state dict.
    """
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
