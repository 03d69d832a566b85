"""One training run per work dir: a lock file naming its holder, taken atomically."""
import errno
import json
import logging
import os
import os.path as osp
import socket
import time
from typing import Optional

from mmengine.logging import print_log

try:
    import fcntl
except ImportError:  # not POSIX: the holder's pid alone decides
    fcntl = None

LOCK_FILE = '.train.lock'


class WorkDirBusyError(RuntimeError):
    """Another running process holds the work dir."""


def _alive(pid: int) -> bool:
    """Whether a process with ``pid`` runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _describe(holder: dict) -> str:
    if 'pid' not in holder:
        return f'the lock file reads {holder.get("text")!r}'
    return f'pid {holder["pid"]} on {holder.get("host")}, started {holder.get("started")}'


class WorkDirLock:
    """Hold a work dir for one training run; refuse it to a second one.

    Two runs writing into the same work dir overwrite each
    other's checkpoints and ``last_checkpoint`` and both exit 0. The lock is the file
    ``WORK_DIR/.train.lock``, locked with ``flock`` (atomic; the kernel releases it when the
    process ends, however it ends) and holding the holder's pid, host and start time as JSON,
    which the refusal names. A lock file left by a process that is gone (killed, crashed) is
    taken over with a warning. A ``flock`` outlives its process in the processes it forked
    (its data-loader workers, which notice their parent's end within 5 s and exit): when the
    named holder is gone, the lock is waited for up to ``CHILDREN_WAIT_S`` seconds and then
    refused with a message that says so. On file systems without ``flock`` the pid alone
    decides for holders on this host. Released (file removed) by :meth:`release` or at the end
    of a ``with`` block.

    Args:
        work_dir (str): The run's work dir (created if missing).
    """

    CHILDREN_WAIT_S = 15.0

    def __init__(self, work_dir: str):
        self.work_dir = work_dir
        self.path = osp.join(work_dir, LOCK_FILE)
        self._fd: Optional[int] = None

    def __enter__(self) -> 'WorkDirLock':
        self.acquire()
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock.

        Raises:
            WorkDirBusyError: a running process holds it; the message names it and the file.
        """
        os.makedirs(self.work_dir, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                locked = self._flock(fd)
            except BaseException:
                os.close(fd)
                raise
            try:  # the previous holder may have removed the file between open and flock
                current = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                current = False
            if current:
                break
            os.close(fd)
        previous = self._read(fd)
        if previous and not locked and previous.get('host') == socket.gethostname() \
                and isinstance(previous.get('pid'), int) and _alive(previous['pid']):
            os.close(fd)
            raise self._busy(previous)
        if previous:
            print_log(f'{self.path}: taking over the lock of a training run that is no longer '
                      f'running ({_describe(previous)}); its checkpoints stay as they are',
                      logger='current', level=logging.WARNING)
        me = dict(pid=os.getpid(), host=socket.gethostname(),
                  started=time.strftime('%Y-%m-%d %H:%M:%S'))
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Give the lock back and remove its file (does nothing when not held)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            if os.path.samestat(os.fstat(fd), os.stat(self.path)):
                os.remove(self.path)
        except FileNotFoundError:
            pass
        finally:
            os.close(fd)  # closing releases the flock

    def _flock(self, fd: int) -> bool:
        """Lock ``fd`` without waiting (but for the children of a gone holder); False where the
        file system cannot lock."""
        if fcntl is None:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            holder = self._read(fd)
        except OSError as error:
            if error.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                return False
            raise
        if not self._gone(holder):
            raise self._busy(holder)
        deadline = time.monotonic() + self.CHILDREN_WAIT_S
        while time.monotonic() < deadline:  # held by what the gone run forked
            time.sleep(0.1)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                pass
        raise WorkDirBusyError(
            f'work dir {self.work_dir}: the training run that holds it ({_describe(holder)}) '
            f'has ended, but a process it started (e.g. a data-loader worker) still holds its '
            f'lock file {self.path} after {self.CHILDREN_WAIT_S:.0f} s. Stop that process '
            '(`fuser -v` on the lock file names it), or give this run another --work-dir.')

    @staticmethod
    def _gone(holder: Optional[dict]) -> bool:
        """Whether ``holder`` names a process of this host that has ended."""
        return bool(holder) and holder.get('host') == socket.gethostname() and isinstance(
            holder.get('pid'), int) and not _alive(holder['pid'])

    def _busy(self, holder: Optional[dict]) -> WorkDirBusyError:
        who = _describe(holder) if holder else 'a process that has not written its name yet'
        return WorkDirBusyError(
            f'work dir {self.work_dir} is in use by another training run ({who}; lock file '
            f'{self.path}). Wait for it to finish or stop it, or give this run another '
            '--work-dir.')

    @staticmethod
    def _read(fd: int) -> Optional[dict]:
        """The holder written in the lock file, or None when it is empty or unreadable."""
        data = os.pread(fd, 4096, 0)
        if not data.strip():
            return None
        try:
            holder = json.loads(data)
        except ValueError:
            return dict(text=data[:80].decode(errors='replace'))
        return holder if isinstance(holder, dict) else None
