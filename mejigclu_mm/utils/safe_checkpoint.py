"""Load mmengine checkpoints under torch >= 2.6 with safe (weights_only) unpickling kept on.

torch >= 2.6 unpickles with ``weights_only=True`` by default, and mmengine 0.10.7 cannot then
read its own checkpoints: they hold numpy arrays and scalars and ``HistoryBuffer`` objects. This
module, applied when ``mejigclu_mm`` is imported:

1. allow-lists the types mmengine writes (numpy arrays, dtypes and scalars, and
   ``HistoryBuffer``) and a few value constructors (below), without switching safe loading off;
2. stops ``HistoryBuffer`` from pickling its statistics functions: they pickle as
   ``builtins.getattr(HistoryBuffer, 'mean')``, and allow-listing ``getattr`` would re-open code
   execution. They are registered again from code when a buffer is loaded, so nothing is lost;
3. routes mmengine's local-file checkpoint loader (used by ``--resume``, ``load_from`` and
   ``init_cfg=dict(type='Pretrained')``) through :func:`load_checkpoint_file`, which refuses a
   file whose unpickling would run code with a message that names the file and the offending
   references, and says so when a file is empty or cut off (torch's own errors for that are
   ``EOFError`` with no text or ``failed finding central directory``). Files the user trusts can
   be named in the ``MEJIGCLU_TRUSTED_CHECKPOINTS`` environment variable (paths separated by
   ``os.pathsep``), e.g. checkpoints written by plain mmengine before this fix.

Why the allow-list is safe. torch's weights_only unpickler calls (REDUCE, NEWOBJ, BUILD) only
allow-listed callables, and refuses any other global the moment the file names it, before
anything is called. The arguments those callables get are built the same way, so they are plain
values (str, bytes, numbers, lists, dicts, tuples, None) or objects of allow-listed types. A
callable may therefore be allowed when, given such arguments, it can only build a value and can
never look up or call another callable. That holds for:

- ``numpy.ndarray``, ``numpy.dtype`` and numpy's ``_reconstruct`` / ``scalar``: they build an
  array, a dtype or a scalar from a shape, a dtype and raw bytes;
- every numpy dtype class (``numpy.dtypes.ObjectDType``, ``DateTime64DType``, ...): only the
  dtype's state is set on them. Without them object and datetime64 arrays do not load;
- ``builtins.bytes``: pickle protocol 2 (torch's) writes ``b''`` as ``bytes()``, so every empty
  array needs it; it copies bytes or small ints and cannot run code;
- ``datetime.date`` / ``datetime`` / ``time`` / ``timedelta`` / ``timezone``: value types built
  from numbers or packed bytes (Python dates in object arrays).

An object array pickles its elements one by one: strings, numbers and the types above load; an
element whose reduce names anything else (``getattr``, ``eval``, ``exec``, ``__import__``,
``os.*``, ``subprocess.*``, any class) is refused when its global is read, so no element's code
runs. Those are never allow-listed: ``getattr`` reaches any attribute of an allowed object
(hence any function), and the others run code outright.
"""
import datetime
import os
import pickle
import zipfile
from typing import Optional, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner import CheckpointLoader

TRUSTED_ENV = 'MEJIGCLU_TRUSTED_CHECKPOINTS'


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint whose unpickling would call something outside the allow-list."""


class IncompleteCheckpointError(EOFError):
    """A checkpoint file that is empty or cut off (an interrupted write, copy or download)."""


def _mmengine_safe_globals() -> list:
    """The globals an mmengine checkpoint needs, under numpy 2 names and numpy 1 aliases."""
    from numpy._core import multiarray
    safe = [np.ndarray, np.dtype, multiarray._reconstruct, multiarray.scalar, HistoryBuffer]
    # Files written with numpy < 2 name the same functions under numpy.core.
    safe += [(multiarray._reconstruct, 'numpy.core.multiarray._reconstruct'),
             (multiarray.scalar, 'numpy.core.multiarray.scalar')]
    # numpy >= 1.25 may pickle a dtype by its class, e.g. numpy.dtypes.Float64DType, and a
    # dtype's state is set on its class: all of them, object and datetime64 included.
    safe += sorted({type(np.dtype(code)) for code in np.typecodes['All']}, key=str)
    # Value constructors that cannot run code (see the module docstring): b'' pickles as
    # bytes() (every empty array), Python dates may sit in object arrays.
    safe += [bytes, datetime.date, datetime.datetime, datetime.time, datetime.timedelta,
             datetime.timezone]
    return safe


def _history_buffer_getstate(self) -> dict:
    """State of a HistoryBuffer without its statistics functions (see module docstring)."""
    return {key: value for key, value in self.__dict__.items() if key != 'statistics_methods'}


def _is_trusted(path: str) -> bool:
    trusted = os.environ.get(TRUSTED_ENV, '')
    wanted = os.path.realpath(path)
    return any(entry and os.path.realpath(entry) == wanted for entry in trusted.split(os.pathsep))


def _damage(path: str, error: BaseException) -> Optional[str]:
    """How a file that torch could not read is cut off, or None when it is whole.

    torch checkpoints are zip archives: one whose end (the central directory) is missing, or
    whose members do not match their checksums, is incomplete. For other files (old-style
    pickles) only the error tells: running out of data.
    """
    size = os.path.getsize(path)
    if size == 0:
        return 'it is empty (0 bytes)'
    with open(path, 'rb') as file:
        is_zip = file.read(4) == b'PK\x03\x04'
    if is_zip:
        try:
            with zipfile.ZipFile(path) as archive:
                bad = archive.testzip()
        except (zipfile.BadZipFile, OSError, EOFError, ValueError):
            return f'its zip archive is cut off after {size} bytes'
        return f'{bad} in its zip archive is damaged ({size} bytes)' if bad else None
    if isinstance(error, (EOFError, IndexError)) or 'truncated' in str(error):
        return f'its data ends early ({size} bytes)'
    return None


def _incomplete(path: str, error: BaseException) -> Optional[IncompleteCheckpointError]:
    """The error to raise instead of ``error`` when ``path`` is cut off, else None."""
    damage = _damage(path, error)
    if damage is None:
        return None
    detail = (str(error).splitlines() or [''])[0].split('. ')[0][:120]
    return IncompleteCheckpointError(
        f'checkpoint {path} is incomplete: {damage}. It was probably cut off while being '
        f'written, copied or downloaded; write or copy it again (torch: '
        f'{type(error).__name__}{": " + detail if detail else ""})')


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
        IncompleteCheckpointError: the file is empty or cut off.
        UnsafeCheckpointError: unpickling would call something outside the allow-list; no code
            from the file has run. Trust the file explicitly through
            ``MEJIGCLU_TRUSTED_CHECKPOINTS`` only if you know where it comes from.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'checkpoint {path} does not exist or is not a file')
    weights_only = not _is_trusted(path)
    try:
        return torch.load(path, map_location=map_location, weights_only=weights_only)
    except pickle.UnpicklingError as error:
        incomplete = _incomplete(path, error)
        if incomplete is not None:
            raise incomplete from None
        if not weights_only:
            raise
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
    except (EOFError, RuntimeError, OSError, IndexError, ValueError) as error:
        incomplete = _incomplete(path, error)
        if incomplete is not None:
            raise incomplete from None
        raise


def _load_from_local(filename: str, map_location=None) -> dict:
    """mmengine's CheckpointLoader scheme for local paths, through the safe loader."""
    return load_checkpoint_file(os.path.expanduser(filename), map_location=map_location)


def install_safe_checkpoint_loading() -> None:
    """Apply the three fixes of this module (idempotent)."""
    torch.serialization.add_safe_globals(_mmengine_safe_globals())
    HistoryBuffer.__getstate__ = _history_buffer_getstate
    CheckpointLoader.register_scheme(prefixes='', loader=_load_from_local, force=True)
