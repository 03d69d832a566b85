"""Write a file so that readers see the old content or the whole new one, never a part.

A result written in place (``open(path, 'w')``) is destroyed the moment the write starts: a full
disk, a kill or a crash half-way leaves a cut-off file where a good one was. Here the new
content goes to a temporary file in the same folder (same file system, so the rename is
atomic), is flushed to disk, and only then replaces ``path`` with ``os.replace``.
"""
import contextlib
import os
import os.path as osp
import secrets
from typing import IO, Iterator, Union

PathLike = Union[str, os.PathLike]


def temporary_path(path: PathLike) -> str:
    """A new, unused file name in ``path``'s folder for writing ``path``'s next content.

    The file is created (empty, with the permissions the umask gives a new file) so that no one
    else takes the name; its name starts with a dot and ends with ``.tmp``, so that listings of
    results (``*.pth``, ``*.json``) skip it.

    Args:
        path (str | PathLike): The file that will be replaced.

    Returns:
        str: The temporary file's path.
    """
    path = os.fspath(path)
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    while True:
        tmp = osp.join(folder, f'.{osp.basename(path)}.{os.getpid()}-{secrets.token_hex(4)}.tmp')
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return tmp
        except FileExistsError:
            continue


def fsync_path(path: PathLike) -> None:
    """Flush a file's content, or a folder's entries, to the disk."""
    flags = os.O_RDONLY | getattr(os, 'O_DIRECTORY', 0) if osp.isdir(path) else os.O_RDONLY
    try:
        handle = os.open(path, flags)
    except OSError:  # folders cannot be opened on some systems (Windows): nothing to flush
        return
    try:
        os.fsync(handle)
    except OSError:
        pass  # some file systems do not flush folders; the rename is atomic all the same
    finally:
        os.close(handle)


def replace_with(tmp: PathLike, path: PathLike) -> None:
    """Flush ``tmp`` and move it over ``path`` in one step (``os.replace``), then flush the
    folder so that the new name survives a power cut.

    Args:
        tmp (str | PathLike): The complete new file, in ``path``'s folder.
        path (str | PathLike): The file to replace (or create).
    """
    fsync_path(tmp)
    os.replace(tmp, path)
    fsync_path(osp.dirname(osp.abspath(path)))


def remove_quietly(path: PathLike) -> None:
    """Remove ``path`` if it exists (the clean-up of a temporary file after a failure)."""
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)


@contextlib.contextmanager
def atomic_write(path: PathLike, mode: str = 'w', **open_kwargs) -> Iterator[IO]:
    """Open a temporary file for writing; on success it replaces ``path`` in one step.

    On an exception (including a full disk while writing) the temporary file is removed and
    ``path`` keeps its previous content.

    Args:
        path (str | PathLike): The file to write.
        mode (str): ``'w'`` (text, the default) or ``'wb'``.
        **open_kwargs: More arguments for ``open`` (e.g. ``encoding``).

    Yields:
        file: The open temporary file.

    Example:
        >>> with atomic_write('results.json') as file:
        ...     json.dump(results, file)
    """
    if mode not in ('w', 'wb'):
        raise ValueError(f"atomic_write: mode must be 'w' or 'wb', got {mode!r}")
    tmp = temporary_path(path)
    try:
        with open(tmp, mode, **open_kwargs) as file:
            yield file
        replace_with(tmp, path)
    except BaseException:
        remove_quietly(tmp)
        raise
