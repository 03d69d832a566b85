"""Run a test function in several CPU processes joined by a gloo process group."""
import os
import tempfile

import torch.distributed as dist
import torch.multiprocessing as mp


def _worker(rank, world_size, init_file, fn, args):
    dist.init_process_group('gloo', init_method=f'file://{init_file}', rank=rank,
                            world_size=world_size)
    try:
        fn(rank, world_size, *args)
    finally:
        dist.destroy_process_group()


def run_in_processes(fn, world_size, *args):
    """Call ``fn(rank, world_size, *args)`` in ``world_size`` spawned processes (gloo).

    ``fn`` must be a module-level function; results travel through files it writes.
    """
    with tempfile.TemporaryDirectory() as tmp:
        mp.spawn(_worker, args=(world_size, os.path.join(tmp, 'init'), fn, args),
                 nprocs=world_size)
