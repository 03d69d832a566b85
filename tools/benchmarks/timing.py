"""Timing helpers: synchronised wall-clock steps, peak GPU memory, one-thread CPU runs."""
import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Optional

import torch


def synchronize(device: str) -> None:
    """Wait for queued GPU work (nothing to wait for on the CPU)."""
    if device == 'cuda':
        torch.cuda.synchronize()


@dataclass
class Timing:
    """Seconds of every timed call.

    Args:
        seconds (list[float]): One entry per timed call (warm-up calls excluded).
    """
    seconds: List[float]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.seconds)

    def per_second(self, items: float) -> float:
        """``items`` per second at the median call time."""
        return items / self.median


def time_calls(fn: Callable[[], object], device: str, steps: int, warmup: int = 1) -> Timing:
    """Call ``fn`` ``warmup`` times untimed, then ``steps`` times, each timed on its own.

    Every call is bracketed by :func:`synchronize`, so GPU work is counted in the call that
    queued it (``time.perf_counter`` wall clock).

    Args:
        fn (Callable): The work of one step.
        device (str): ``'cpu'`` or ``'cuda'``.
        steps (int): Timed calls, >= 1.
        warmup (int): Untimed calls first (allocator, cuDNN / oneDNN algorithm choice).

    Returns:
        Timing: per-call seconds.
    """
    if steps < 1:
        raise ValueError(f'steps must be >= 1, got {steps}')
    for _ in range(warmup):
        fn()
    synchronize(device)
    seconds = []
    for _ in range(steps):
        start = time.perf_counter()
        fn()
        synchronize(device)
        seconds.append(time.perf_counter() - start)
    return Timing(seconds)


def time_interleaved(fns: Dict[str, Callable[[], object]], device: str, steps: int,
                     warmup: int = 1) -> Dict[str, Timing]:
    """Time alternatives round-robin: warm-up of each, then step k of every one in turn.

    Side-by-side ratios then see the same machine: a background load that comes and goes
    (other processes on a shared CPU, clock changes) is spread over all alternatives instead of
    landing on whichever ran during it. Each call is timed as in :func:`time_calls`.

    Args:
        fns (dict[str, Callable]): The alternatives, by name.
        device (str): ``'cpu'`` or ``'cuda'``.
        steps (int): Timed calls of each alternative, >= 1.
        warmup (int): Untimed calls of each alternative first.

    Returns:
        dict[str, Timing]: per-call seconds of every alternative.
    """
    if steps < 1:
        raise ValueError(f'steps must be >= 1, got {steps}')
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    synchronize(device)
    seconds: Dict[str, List[float]] = {name: [] for name in fns}
    for _ in range(steps):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            synchronize(device)
            seconds[name].append(time.perf_counter() - start)
    return {name: Timing(values) for name, values in seconds.items()}


class PeakMemory:
    """Peak GPU memory allocated by PyTorch inside a ``with`` block (None on the CPU).

    Example:
        >>> with PeakMemory('cuda') as peak:
        ...     step()
        >>> peak.bytes
    """

    def __init__(self, device: str):
        self.device = device
        self.bytes: Optional[int] = None

    def __enter__(self) -> 'PeakMemory':
        if self.device == 'cuda':
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        return self

    def __exit__(self, *exc) -> None:
        if self.device == 'cuda':
            torch.cuda.synchronize()
            self.bytes = torch.cuda.max_memory_allocated()


@contextmanager
def one_cpu_thread() -> Iterator[None]:
    """Run the block with one PyTorch and one OpenCV thread (per-core throughput)."""
    import cv2
    threads, cv2_threads = torch.get_num_threads(), cv2.getNumThreads()
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        cv2.setNumThreads(cv2_threads)
