"""Refuse weights with NaN or Inf values, naming the file they come from."""
from typing import Mapping

import torch

from mejigclu_mm.runtime.checkpoint_errors import NonFiniteCheckpointError


def check_finite(tensors: Mapping[str, object], path: str) -> None:
    """Raise unless every floating-point tensor of ``tensors`` is finite.

    A run whose loss went to NaN keeps saving checkpoints; their weights would convert, load and
    evaluate at chance level without a word.

    Args:
        tensors (Mapping[str, object]): Names (as the file stores them) and values; values that
            are no floating-point tensors are skipped.
        path (str): The file they come from, for the message.

    Raises:
        NonFiniteCheckpointError: says how many tensors hold NaN or Inf and names the first.
    """
    floating = [(name, value) for name, value in tensors.items()
                if torch.is_tensor(value) and (value.is_floating_point() or value.is_complex())]
    bad = [name for name, value in floating if not bool(torch.isfinite(value).all())]
    if bad:
        raise NonFiniteCheckpointError(
            f'checkpoint {path} has {len(bad)} of {len(floating)} tensors with NaN or Inf values '
            f'(e.g. {bad[0]}): the run that wrote it diverged. Use a checkpoint written before '
            f'its loss became NaN, or train again (e.g. with a lower learning rate)')
