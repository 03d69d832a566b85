"""Load mmengine checkpoints under torch >= 2.6 with safe (weights_only) unpickling kept on.

torch >= 2.6 unpickles with ``weights_only=True`` by default, and mmengine 0.10.7 cannot then
read its own checkpoints: they hold numpy arrays and scalars and ``HistoryBuffer`` objects. This
module, applied when ``mejigclu_mm`` is imported:

1. allow-lists exactly the types mmengine writes (numpy arrays, dtypes and scalars, and
   ``HistoryBuffer``), without switching safe loading off;
2. stops ``HistoryBuffer`` from pickling its statistics functions: they pickle as
   ``builtins.getattr(HistoryBuffer, 'mean')``, and allow-listing ``getattr`` would re-open code
   execution. They are registered again from code when a buffer is loaded, so nothing is lost;
3. routes mmengine's local-file checkpoint loader (used by ``--resume``, ``load_from`` and
   ``init_cfg=dict(type='Pretrained')``) through :func:`load_checkpoint_file`, which refuses a
   file whose unpickling would run code with a message that names the file and the offending
   references. Files the user trusts can be named in the ``MEJIGCLU_TRUSTED_CHECKPOINTS``
   environment variable (paths separated by ``os.pathsep``), e.g. checkpoints written by plain
   mmengine before this fix.
"""
import os
import pickle
from typing import Optional, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner import CheckpointLoader

TRUSTED_ENV = 'MEJIGCLU_TRUSTED_CHECKPOINTS'


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint whose unpickling would call something outside the allow-list."""


def _mmengine_safe_globals() -> list:
    """The globals an mmengine checkpoint needs, under numpy 2 names and numpy 1 aliases."""
    from numpy._core import multiarray
    safe = [np.ndarray, np.dtype, multiarray._reconstruct, multiarray.scalar, HistoryBuffer]
    # Files written with numpy < 2 name the same functions under numpy.core.
    safe += [(multiarray._reconstruct, 'numpy.core.multiarray._reconstruct'),
             (multiarray.scalar, 'numpy.core.multiarray.scalar')]
    # numpy >= 1.25 may pickle a dtype by its class, e.g. numpy.dtypes.Float64DType.
    safe += [type(np.dtype(code)) for code in '?bBhHiIlLqQefdgFDGSUV']
    return safe


def _history_buffer_getstate(self) -> dict:
    """State of a HistoryBuffer without its statistics functions (see module docstring)."""
    return {key: value for key, value in self.__dict__.items() if key != 'statistics_methods'}


def _is_trusted(path: str) -> bool:
    trusted = os.environ.get(TRUSTED_ENV, '')
    wanted = os.path.realpath(path)
    return any(entry and os.path.realpath(entry) == wanted for entry in trusted.split(os.pathsep))


def load_checkpoint_file(path: Union[str, os.PathLike],
                         map_location: Optional[Union[str, torch.device]] = 'cpu') -> dict:
    """Load a checkpoint file with torch's safe unpickler.

    Args:
        path (str | PathLike): The checkpoint file.
        map_location (str | torch.device, optional): As for ``torch.load``. Defaults to 'cpu'.

    Returns:
        The unpickled object (usually a dict).

    Raises:
        FileNotFoundError: ``path`` is not a file.
        UnsafeCheckpointError: unpickling would call something outside the allow-list; no code
            from the file has run. Trust the file explicitly through ``MEJIGCLU_TRUSTED_CHECKPOINTS``
            only if you know where it comes from.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'checkpoint {path} does not exist or is not a file')
    if _is_trusted(path):
        return torch.load(path, map_location=map_location, weights_only=False)
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        try:
            unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(path)
        except Exception:  # not a zip checkpoint: the torch error says enough
            unsafe = []
        raise UnsafeCheckpointError(
            f'refused to load checkpoint {path}: unpickling it would call '
            f'{", ".join(unsafe) or "objects outside the allow-list"}, which could run code from '
            f'the file. Checkpoints written by mejigclu_mm never need this; a file written by '
            f'plain mmengine under torch >= 2.6 references builtins.getattr through '
            f'HistoryBuffer. If you trust this file, name it in {TRUSTED_ENV}. '
            f'(torch: {str(error).splitlines()[0]})') from None


def _load_from_local(filename: str, map_location=None) -> dict:
    """mmengine's CheckpointLoader scheme for local paths, through the safe loader."""
    return load_checkpoint_file(os.path.expanduser(filename), map_location=map_location)


def install_safe_checkpoint_loading() -> None:
    """Apply the three fixes of this module (idempotent)."""
    torch.serialization.add_safe_globals(_mmengine_safe_globals())
    HistoryBuffer.__getstate__ = _history_buffer_getstate
    CheckpointLoader.register_scheme(prefixes='', loader=_load_from_local, force=True)
