"""Load checkpoints with torch's safe (weights_only) unpickler, and let mmengine's loaders do so.

torch >= 2.6 unpickles with ``weights_only=True`` by default, and mmengine 0.10.7 cannot then
read its own checkpoints: they hold numpy arrays and scalars and ``HistoryBuffer`` objects.
Importing ``mejigclu_mm`` changes nothing in torch or mmengine; instead

1. :func:`load_checkpoint_file` reads a file with the types mmengine writes allow-listed for
   that call only (numpy arrays, dtypes and scalars, ``HistoryBuffer`` and a few value
   constructors, below), without switching safe loading off. It first names a file that is no
   PyTorch checkpoint for what it is (:mod:`mejigclu_mm.runtime.file_kind`), reads detectron2's
   pickles of numpy arrays (:mod:`mejigclu_mm.runtime.numpy_pickle`), refuses a file whose
   unpickling would run code with a message that names the file and the offending references,
   and says so when a file is empty or cut off (torch's own errors for that are ``EOFError``
   with no text or ``failed finding central directory``). Files the user trusts can be named in
   the ``MEJIGCLU_TRUSTED_CHECKPOINTS`` environment variable (paths separated by
   ``os.pathsep``), e.g. checkpoints written by plain mmengine under torch >= 2.6, whose
   ``HistoryBuffer`` pickles its statistics functions through ``builtins.getattr``;
2. :func:`safe_checkpoint_loading` routes mmengine's local-file checkpoint loader (used by
   ``--resume``, ``load_from`` and ``init_cfg``) through :func:`load_checkpoint_file` while it
   is entered, and puts mmengine's back on leaving. Our tools enter it; configs get the same
   from :class:`~mejigclu_mm.runtime.hooks.SafeCheckpointHook`, which also keeps the checkpoints our
   runs save free of ``builtins.getattr`` references.

Why the allow-list cannot run code: docs/checkpoints.md, *Why the allow-list is safe*.
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

from mejigclu_mm.runtime.checkpoint_errors import (IncompleteCheckpointError, NotACheckpointError,
                                                   UnsafeCheckpointError)
from mejigclu_mm.runtime.file_kind import checkpoint_file_kind
from mejigclu_mm.runtime.numpy_pickle import load_numpy_pickle

TRUSTED_ENV = 'MEJIGCLU_TRUSTED_CHECKPOINTS'


def mmengine_safe_globals() -> list:
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


class mmengine_globals_allowed:  # noqa: N801  (used like torch.serialization.safe_globals)
    """Allow-list :func:`mmengine_safe_globals` for torch's safe unpickler inside the block.

    Only the globals not already allowed are added, and only those are removed on leaving, so
    the caller's own ``torch.serialization.add_safe_globals`` stay as they were. A class, not a
    generator: a block that is never left (a run that failed) changes nothing when it is
    garbage-collected later.
    """

    def __enter__(self) -> None:
        present = set(torch.serialization.get_safe_globals())
        self._scope = torch.serialization.safe_globals(
            [item for item in mmengine_safe_globals() if item not in present])
        self._scope.__enter__()

    def __exit__(self, *exc_info) -> None:
        self._scope.__exit__(*exc_info)


def _is_trusted(path: str) -> bool:
    trusted = os.environ.get(TRUSTED_ENV, '')
    wanted = os.path.realpath(path)
    return any(entry and os.path.realpath(entry) == wanted for entry in trusted.split(os.pathsep))


def _damage(path: str, error: Optional[BaseException]) -> Optional[str]:
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


def _incomplete(path: str,
                error: Optional[BaseException] = None) -> Optional[IncompleteCheckpointError]:
    """The error to raise instead of ``error`` when ``path`` is cut off, else None."""
    damage = _damage(path, error)
    if damage is None:
        return None
    detail = (str(error).splitlines() or [''])[0].split('. ')[0][:120]
    torch_said = f' (torch: {type(error).__name__}{": " + detail if detail else ""})' \
        if error is not None else ''
    return IncompleteCheckpointError(
        f'checkpoint {path} is incomplete: {damage}. It was probably cut off while being '
        f'written, copied or downloaded; write or copy it again{torch_said}')


def _foreign_zip(path: str) -> Optional[NotACheckpointError]:
    """The error for a whole zip archive that holds no torch checkpoint (no ``data.pkl``)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return None
    if any(name == 'data.pkl' or name.endswith('/data.pkl') for name in names):
        return None
    return NotACheckpointError(
        f'{path} is not a PyTorch checkpoint: it is a zip archive of {len(names)} files '
        f'(e.g. {names[:3]}) without the data.pkl that torch.save writes. Unpack it and give '
        f'the checkpoint inside')


def _unsafe(path: str, error: BaseException) -> UnsafeCheckpointError:
    try:
        unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except Exception:  # not a zip checkpoint: the torch error says enough
        unsafe = []
    return UnsafeCheckpointError(
        f'refused to load checkpoint {path}: unpickling it would call '
        f'{", ".join(unsafe) or "objects outside the allow-list"}, which could run code from '
        f'the file. Checkpoints written by mejigclu_mm never need this; a file written by '
        f'plain mmengine under torch >= 2.6 references builtins.getattr through '
        f'HistoryBuffer. If you trust this file, name it in {TRUSTED_ENV}. '
        f'(torch: {str(error).splitlines()[0]})')


def _unknown(path: str, error: BaseException) -> NotACheckpointError:
    with open(path, 'rb') as file:
        head = file.read(8)
    return NotACheckpointError(
        f'{path} is not a PyTorch checkpoint: its first bytes {head!r} are those of no format '
        f'torch or detectron2 writes (torch: {(str(error).splitlines() or [""])[0][:120]})')


def load_checkpoint_file(path: Union[str, os.PathLike],
                         map_location: Optional[Union[str, torch.device]] = 'cpu'):
    """Load a checkpoint file with torch's safe unpickler (detectron2 pickles with ours).

    Args:
        path (str | PathLike): The checkpoint file.
        map_location (str | torch.device, optional): As for ``torch.load``. Defaults to 'cpu'.

    Returns:
        The unpickled object (usually a dict; numpy arrays for a detectron2 pickle).

    Raises:
        FileNotFoundError: ``path`` is not a file.
        NotACheckpointError: the file is something else (Git LFS pointer, HTML page, image,
            text, a zip archive of other files); says what and what to do.
        IncompleteCheckpointError: the file is empty or cut off.
        UnsafeCheckpointError: unpickling would call something outside the allow-list; no code
            from the file has run. Trust a torch checkpoint explicitly through
            ``MEJIGCLU_TRUSTED_CHECKPOINTS`` only if you know where it comes from.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'checkpoint {path} does not exist or is not a file')
    kind = checkpoint_file_kind(path)
    if kind == 'empty':
        raise _incomplete(path)
    if kind == 'pickle':
        return load_numpy_pickle(path)
    weights_only = not _is_trusted(path)
    try:
        with mmengine_globals_allowed():
            return torch.load(path, map_location=map_location, weights_only=weights_only)
    except pickle.UnpicklingError as error:
        incomplete = _incomplete(path, error)
        if incomplete is not None:
            raise incomplete from None
        if kind == 'unknown':
            raise _unknown(path, error) from None
        if not weights_only:
            raise
        raise _unsafe(path, error) from None
    except (EOFError, RuntimeError, OSError, IndexError, ValueError) as error:
        incomplete = _incomplete(path, error) or (_foreign_zip(path) if kind == 'zip' else None)
        if incomplete is not None:
            raise incomplete from None
        if kind == 'unknown':
            raise _unknown(path, error) from None
        raise


def _load_from_local(filename: str, map_location=None):
    """mmengine's CheckpointLoader scheme for local paths, through the safe loader."""
    return load_checkpoint_file(os.path.expanduser(filename), map_location=map_location)


class safe_checkpoint_loading:  # noqa: N801  (a context manager, used like a function)
    """Inside the block, mmengine loads local checkpoints through :func:`load_checkpoint_file`.

    That covers ``--resume``, ``load_from``, ``init_cfg=dict(type='Pretrained')`` and every
    other ``CheckpointLoader.load_checkpoint`` of a local path; its other schemes (URLs,
    ``torchvision://``, ...) keep their loaders and get mmengine's types allow-listed. On leaving,
    mmengine's local loader and torch's allow-list are as they were (blocks may nest). A class,
    not a generator: a block that is never left changes nothing when it is garbage-collected
    later.
    """

    def __enter__(self) -> None:
        self._previous = CheckpointLoader._schemes.get('')  # no public way to read it back
        CheckpointLoader.register_scheme(prefixes='', loader=_load_from_local, force=True)
        self._globals = mmengine_globals_allowed()
        self._globals.__enter__()

    def __exit__(self, *exc_info) -> None:
        self._globals.__exit__(*exc_info)
        if self._previous is None:
            CheckpointLoader._schemes.pop('', None)
        else:
            CheckpointLoader._schemes[''] = self._previous
