"""WorkDirLock: one training run per work dir; the holder is named; a dead holder's lock is
taken over with a warning, after the processes it left behind have let go of it."""
import json
import os
import signal
import socket
import subprocess
import sys

import pytest
from log_capture import captured_log

from mejigclu_mm.runtime import work_dir_lock
from mejigclu_mm.runtime.work_dir_lock import LOCK_FILE, WorkDirBusyError, WorkDirLock

# The module alone (not the package, whose imports take seconds): it needs only mmengine.
HOLDER = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location('work_dir_lock', sys.argv[2])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
module.WorkDirLock(sys.argv[1]).acquire()
print('locked', flush=True)
sys.stdin.readline()
"""


# A process a gone run left behind (as its data-loader workers are): it holds the lock file's
# flock for argv[2] seconds.
CHILD = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.flock(fd, fcntl.LOCK_EX)
print('locked', flush=True)
time.sleep(float(sys.argv[2]))
"""


def dead_pid():
    """The pid of a process that has ended."""
    process = subprocess.Popen([sys.executable, '-c', 'pass'])
    process.wait()
    return process.pid


def test_held_while_the_run_lasts_then_removed(tmp_path):
    work_dir = tmp_path / 'run'
    with WorkDirLock(str(work_dir)):
        holder = json.loads((work_dir / LOCK_FILE).read_text())
        assert holder['pid'] == os.getpid() and holder['host'] == socket.gethostname()
        with pytest.raises(WorkDirBusyError, match=rf'work dir {work_dir} is in use by another '
                           rf'training run \(pid {os.getpid()} on'):
            WorkDirLock(str(work_dir)).acquire()
    assert not (work_dir / LOCK_FILE).exists()
    with WorkDirLock(str(work_dir)):  # free again
        pass


@pytest.mark.slow
def test_a_running_holder_is_named_and_a_killed_one_taken_over(tmp_path):
    process = subprocess.Popen([sys.executable, '-c', HOLDER, str(tmp_path),
                                work_dir_lock.__file__], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == 'locked'
        with pytest.raises(WorkDirBusyError, match=f'pid {process.pid} on'):
            WorkDirLock(str(tmp_path)).acquire()
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert (tmp_path / LOCK_FILE).exists()  # a killed process cannot clean up
    with captured_log() as messages, WorkDirLock(str(tmp_path)):
        assert json.loads((tmp_path / LOCK_FILE).read_text())['pid'] == os.getpid()
    assert f'taking over the lock of a training run that is no longer running (pid ' \
           f'{process.pid}' in '\n'.join(messages)


def test_the_children_of_a_gone_run_are_waited_for_then_named(tmp_path, monkeypatch):
    pid, lock = dead_pid(), tmp_path / LOCK_FILE

    def left_behind(seconds):
        lock.write_text(json.dumps(dict(pid=pid, host=socket.gethostname(), started='just now')))
        child = subprocess.Popen([sys.executable, '-c', CHILD, str(lock), str(seconds)],
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == 'locked'
        return child

    child = left_behind(1.0)
    with captured_log() as messages, WorkDirLock(str(tmp_path)):
        assert child.wait(timeout=5) == 0  # the lock came when the child ended
    assert f'no longer running (pid {pid} on' in '\n'.join(messages)
    monkeypatch.setattr(WorkDirLock, 'CHILDREN_WAIT_S', 0.5)
    child = left_behind(60)
    try:
        with pytest.raises(WorkDirBusyError, match=rf'the training run that holds it \(pid {pid} '
                           r'on .*\) has ended, but a process it started .* still holds its lock'):
            WorkDirLock(str(tmp_path)).acquire()
    finally:
        child.kill()
        child.wait()


@pytest.mark.parametrize('flock', [True, False])
def test_a_stale_lock_file_is_taken_over_with_a_warning(tmp_path, monkeypatch, flock):
    if not flock:  # a file system without flock: the pid decides
        monkeypatch.setattr(work_dir_lock, 'fcntl', None)
    pid = dead_pid()
    (tmp_path / LOCK_FILE).write_text(json.dumps(dict(pid=pid, host=socket.gethostname(),
                                                      started='yesterday')))
    with captured_log() as messages, WorkDirLock(str(tmp_path)):
        pass
    assert f'no longer running (pid {pid} on {socket.gethostname()}, started yesterday)' in \
        '\n'.join(messages)


def test_without_flock_a_live_holder_on_this_host_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(work_dir_lock, 'fcntl', None)
    (tmp_path / LOCK_FILE).write_text(json.dumps(dict(pid=os.getppid(),
                                                      host=socket.gethostname())))
    with pytest.raises(WorkDirBusyError, match=f'pid {os.getppid()} on'):
        WorkDirLock(str(tmp_path)).acquire()
    assert (tmp_path / LOCK_FILE).exists()  # not taken


def test_release_without_acquire_does_nothing(tmp_path):
    WorkDirLock(str(tmp_path)).release()
    assert not (tmp_path / LOCK_FILE).exists()
