"""Run a comparison's jobs, several at once where the machine allows: GPUs, or CPU cores with
a thread count per job."""
import os
import os.path as osp
import subprocess
import time
from collections import deque
from typing import Dict, List, Optional, Sequence

from mejigclu_mm.cli.comparison.runs import Job


def log_tail(path: str, lines: int = 25) -> str:
    try:
        with open(path, errors='replace') as file:
            return ''.join(deque(file, maxlen=lines))
    except OSError:
        return '(no log)'


def job_environment(threads: int, gpu: Optional[int]) -> Dict[str, str]:
    """The environment of one job: ``threads`` OpenMP / MKL threads, and one GPU when set."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    if gpu is not None:
        env['CUDA_VISIBLE_DEVICES'] = str(gpu)
    return env


def run_jobs(jobs: Sequence[Job], parallel: int = 1, threads: int = 1,
             gpus: Sequence[int] = (), poll: float = 1.0, say=print) -> List[str]:
    """Run the jobs that are not done yet, ``parallel`` at a time, each after its ``after``.

    A job whose ``done`` file exists is skipped (a killed comparison continues from the runs it
    has); a failing job is reported with its log's last lines, and the jobs that need it are
    left out, the others go on.

    Args:
        jobs (Sequence[Job]): The comparison's jobs (runs.plan).
        parallel (int): Jobs at once (with GPUs: at most one per GPU).
        threads (int): OpenMP / MKL threads per job.
        gpus (Sequence[int]): GPU indices to share out, one job each; empty: CPU.
        poll (float): Seconds between checks.
        say (Callable): Where progress lines go.

    Returns:
        list[str]: The names of the jobs that failed or could not run.
    """
    pending = [job for job in jobs if not osp.exists(job.done)]
    done = {job.name for job in jobs if osp.exists(job.done)}
    failed: List[str] = []
    running: Dict[str, tuple] = {}
    free_gpus = list(gpus)
    slots = min(parallel, len(gpus)) if gpus else parallel
    start = time.time()
    try:
        while pending or running:
            for job in list(pending):
                if any(name in failed for name in job.after):
                    pending.remove(job)
                    failed.append(job.name)
                    say(f'skipped {job.name}: it needs {", ".join(job.after)}')
                elif len(running) < slots and all(name in done for name in job.after):
                    pending.remove(job)
                    gpu = free_gpus.pop(0) if gpus else None
                    log = open(job.log, 'a')
                    process = subprocess.Popen(job.command(), stdout=log,
                                               stderr=subprocess.STDOUT,
                                               env=job_environment(threads, gpu))
                    running[job.name] = (job, process, log, gpu, time.time())
                    say(f'[{(time.time() - start) / 60:.1f} min] started {job.name} '
                        f'(log {job.log})')
            for name, (job, process, log, gpu, began) in list(running.items()):
                if process.poll() is None:
                    continue
                log.close()
                del running[name]
                if gpu is not None:
                    free_gpus.append(gpu)
                outcome = process.returncode
                if outcome == 0 and job.finish is not None:
                    try:
                        job.finish()
                    except Exception as error:  # the run's records are not what it promised
                        outcome = f'{type(error).__name__}: {error}'
                if outcome == 0 and osp.exists(job.done):
                    done.add(name)
                    say(f'[{(time.time() - start) / 60:.1f} min] finished {name} in '
                        f'{(time.time() - began) / 60:.1f} min')
                else:
                    failed.append(name)
                    say(f'FAILED {name} ({outcome}); last lines of {job.log}:\n'
                        f'{log_tail(job.log)}')
            if running:
                time.sleep(poll)
            elif pending and not any(all(a in done for a in job.after) for job in pending):
                for job in pending:  # nothing can start any more
                    failed.append(job.name)
                pending = []
    except BaseException:
        for job, process, log, *_ in running.values():
            process.terminate()
        for job, process, log, *_ in running.values():
            process.wait()
            log.close()
        raise
    return failed
