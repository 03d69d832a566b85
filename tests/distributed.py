"""Run a test function in several CPU processes joined by a gloo process group.

The processes come from a fork server that has imported the package once (``forkserver`` with
a preload), not from ``spawn``: a spawned process imports torch, mmengine, mmpretrain and mmdet
again, ~12 s of CPU each, and the distributed tests start 16 of them. Each process is still a
fresh fork with no state of the test process; it takes the test process's environment and
thread count when it starts, as a spawned one would.
"""
import multiprocessing
import os
import tempfile

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

PRELOAD = ['mejigclu_mm', 'torch.distributed']


def take_environment(environment, threads):
    """In a forked process: the environment and thread count of the test that started it."""
    os.environ.clear()
    os.environ.update(environment)
    torch.set_num_threads(threads)


def _worker(rank, world_size, init_file, environment, threads, fn, args):
    take_environment(environment, threads)
    dist.init_process_group('gloo', init_method=f'file://{init_file}', rank=rank,
                            world_size=world_size)
    try:
        fn(rank, world_size, *args)
    finally:
        dist.destroy_process_group()


def run_in_processes(fn, world_size, *args):
    """Call ``fn(rank, world_size, *args)`` in ``world_size`` processes (gloo).

    ``fn`` must be a module-level function; results travel through files it writes.
    """
    multiprocessing.get_context('forkserver').set_forkserver_preload(PRELOAD)
    with tempfile.TemporaryDirectory() as tmp:
        mp.start_processes(_worker, args=(world_size, os.path.join(tmp, 'init'),
                                          dict(os.environ), torch.get_num_threads(), fn, args),
                           nprocs=world_size, start_method='forkserver')
