"""``python SCRIPT ARGS`` for tests, in a process forked from a server that has imported the
package once: a drop-in for the ``subprocess.Popen`` a tool starts its jobs with.

A fresh interpreter pays ~12 s of CPU to import torch, mmengine, mmpretrain and mmdet before a
tiny job's ~3-8 s of work; the comparison tests start eleven such jobs, the resume test six.
Here each job is still its own process, with the environment, thread count, ``sys.argv``,
``sys.path[0]`` and ``__main__`` of ``python SCRIPT``, its output appended to the log file it
was given, and its exit status as its return code; a signal reaches it as it would a real one.
What it cannot show is the start of a real interpreter: ``run_jobs`` with real processes is
tests/cli/comparison/test_jobs.py, ``tools/train.py`` in a fresh interpreter test_dist_train.
"""
import multiprocessing
import os
import os.path as osp
import runpy
import subprocess
import sys
import types

import torch

from distributed import PRELOAD, take_environment


def _run_script(argv, environment, log_path):
    log = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    os.dup2(log, 1)
    os.dup2(log, 2)
    take_environment(environment,
                     int(environment.get('OMP_NUM_THREADS', torch.get_num_threads())))
    script = argv[0]
    sys.argv = list(argv)
    sys.path[0] = osp.dirname(osp.abspath(script))
    try:
        runpy.run_path(script, run_name='__main__')
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


class WarmPopen:
    """The part of ``subprocess.Popen`` that ``run_jobs`` uses, for ``[sys.executable, SCRIPT,
    *ARGS]`` with ``stdout`` an open log file and ``stderr=subprocess.STDOUT``."""

    def __init__(self, command, stdout, stderr=None, env=None):
        if command[0] != sys.executable or stderr != subprocess.STDOUT:
            raise ValueError(f'WarmPopen runs `python SCRIPT ...` into one log, not {command}')
        stdout.flush()
        context = multiprocessing.get_context('forkserver')
        context.set_forkserver_preload(PRELOAD)
        self.process = context.Process(
            target=_run_script, args=(command[1:], dict(env or os.environ), stdout.name))
        self.process.start()
        self.returncode = None

    def poll(self):
        if self.returncode is None and not self.process.is_alive():
            self.returncode = self.process.exitcode
        return self.returncode

    def wait(self, timeout=None):
        self.process.join(timeout)
        return self.poll()

    def send_signal(self, signal):
        os.kill(self.process.pid, signal)

    def terminate(self):
        self.process.terminate()

    def kill(self):
        self.process.kill()


def warm_subprocess():
    """A stand-in for a tool module's ``subprocess``: ``Popen`` is ``WarmPopen``."""
    return types.SimpleNamespace(Popen=WarmPopen, STDOUT=subprocess.STDOUT,
                                 PIPE=subprocess.PIPE)
