"""Section ``exchange``: bytes each rank receives per step, all-gather vs all_to_all."""
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, Tuple
from unittest import mock

import torch
import torch.distributed as dist

from .received_bytes import ReceivedBytes, tensor_bytes
from .report import SectionReport, Table, at_least, at_most, megabytes, ratio
from .section import RunContext, Section, setting, settings_line
from .timing import time_interleaved

NEW, OLD = 'all_to_all (exchange_patches)', 'all-gather (exchange_by_all_gather)'


@dataclass
class ExchangeSettings:
    world_sizes: Tuple[int, ...] = setting((2, 4, 8), 'gloo process counts on the CPU')
    images_per_rank: int = setting(64, 'images per rank (the config: 64)')
    patch_size: int = setting(112, 'uint8 patch side, px (the config: 112)')
    grid: int = setting(2, 'patches per side, m')
    repeats: int = setting(3, 'timed exchanges per path in the multi-process runs')
    steps: int = setting(10, 'timed make_montages calls per path on one process')
    warmup: int = setting(2, 'untimed make_montages calls first')
    start_method: str = setting('fork', "how the processes start: 'fork' (fast) or 'spawn'")


def exchange_functions() -> Dict[str, object]:
    from mejigclu_mm.models.utils import exchange_by_all_gather, exchange_patches
    return {NEW: exchange_patches, OLD: exchange_by_all_gather}


def random_patches(settings: ExchangeSettings, seed: int, device: str = 'cpu'):
    """This rank's grid*grid uint8 patch batches, n x 3 x h x w each."""
    generator = torch.Generator().manual_seed(seed)
    shape = (settings.images_per_rank, 3, settings.patch_size, settings.patch_size)
    return [torch.randint(0, 256, shape, dtype=torch.uint8, generator=generator).to(device)
            for _ in range(settings.grid * settings.grid)]


def exchange_worker(rank: int, world_size: int, settings: dict, init_file: str, out_dir: str,
                    seed: int) -> None:
    """One gloo process: count both exchanges, check they agree, time them; write JSON."""
    torch.set_num_threads(1)  # the collectives need no threads; safe after fork
    dist.init_process_group('gloo', init_method=f'file://{init_file}', rank=rank,
                            world_size=world_size)
    try:
        from mejigclu_mm.models.utils import draw_global_permutation
        config = ExchangeSettings(**settings)
        patches = random_patches(config, seed + rank)
        result = dict(rank=rank, own=sum(tensor_bytes(p) for p in patches), paths={})
        for name, exchange in exchange_functions().items():
            counter = ReceivedBytes(rank)
            with counter.counting():
                exchange(patches, config.grid)  # one step: permutation broadcast + exchange
            seconds = []
            for _ in range(config.repeats):
                dist.barrier()
                start = time.perf_counter()
                exchange(patches, config.grid)
                seconds.append(time.perf_counter() - start)
            result['paths'][name] = dict(total=counter.total, from_others=counter.from_others,
                                         calls=dict(counter.calls), seconds=min(seconds))
        perm = draw_global_permutation(config.grid ** 2 * config.images_per_rank * world_size,
                                       torch.device('cpu'))
        (new, new_targets), (old, old_targets) = (exchange(patches, config.grid, perm)
                                                  for exchange in exchange_functions().values())
        result['agree'] = bool(torch.equal(new, old) and all(
            torch.equal(getattr(new_targets, key), getattr(old_targets, key))
            for key in ('source_image', 'source_position')))
        Path(out_dir, f'rank{rank}.json').write_text(json.dumps(result))
    finally:
        dist.destroy_process_group()


def run_world(settings: ExchangeSettings, world_size: int, seed: int) -> list:
    """Start ``world_size`` gloo processes and collect every rank's result."""
    exchange_functions()  # import the package here: forked processes then start at once
    with tempfile.TemporaryDirectory(prefix='benchmark_exchange_') as folder:
        torch.multiprocessing.start_processes(
            exchange_worker, args=(world_size, asdict(settings), str(Path(folder, 'init')),
                                   folder, seed),
            nprocs=world_size, join=True, start_method=settings.start_method)
        return [json.loads(Path(folder, f'rank{r}.json').read_text()) for r in range(world_size)]


def time_make_montages(settings: ExchangeSettings, context: RunContext) -> Dict[str, float]:
    """Seconds of JigsawClustering.make_montages on one process with each exchange."""
    from .methods import MEJIGCLU, build_model
    model = build_model(MEJIGCLU, depth=18, batch=settings.images_per_rank,
                        device=context.device)
    module = sys.modules[type(model).__module__]
    patches = random_patches(settings, context.seed, context.device)

    def make_montages_with(exchange):
        with mock.patch.object(module, 'exchange_patches', exchange):
            return model.make_montages(patches)

    calls = {name: (lambda exchange=exchange: make_montages_with(exchange))
             for name, exchange in exchange_functions().items()}
    timings = time_interleaved(calls, context.device, settings.steps, settings.warmup)
    return {name: timing.median for name, timing in timings.items()}


def run(settings: ExchangeSettings, context: RunContext) -> SectionReport:
    report = SectionReport(settings=[settings_line(settings, context)])
    own = settings.grid ** 2 * settings.images_per_rank * 3 * settings.patch_size ** 2
    table = Table(['world size', 'exchange', 'received MiB / rank / step', 'vs own patches',
                   'from other ranks vs own', 'collectives per step', 'exchange ms (gloo, CPU)'])
    for world_size in settings.world_sizes:
        results = run_world(settings, world_size, context.seed)
        if not all(result['agree'] for result in results):
            report.refused.append(f'world {world_size}: exchange_patches and '
                                  'exchange_by_all_gather return different slots or targets for '
                                  'the same permutation')
        for name in (OLD, NEW):
            per_rank = [result['paths'][name] for result in results]
            worst = max(per_rank, key=lambda p: p['total'])
            worst_others = max(p['from_others'] for p in per_rank)
            calls = ', '.join(f'{k} x{v}' for k, v in sorted(worst['calls'].items()))
            table.add(world_size, name, megabytes(worst['total']), f'{worst["total"] / own:.3f}',
                      f'{worst_others / own:.3f}', calls,
                      1000 * max(p['seconds'] for p in per_rank))
            if name == NEW:
                report.targets.append(at_most(f'all_to_all receives <= 1.2x its own patch bytes '
                                              f'(world {world_size})', worst['total'] / own, 1.2))
    report.tables.append(table)
    seconds = time_make_montages(settings, context)
    montage_table = Table(['make_montages, one process', 'ms/step', 'vs all-gather path'],
                          caption=f'World size 1 on {context.device} ({settings.images_per_rank} '
                                  f'images, exchange + normalisation + stitch):')
    for name in (OLD, NEW):
        montage_table.add(name, 1000 * seconds[name], f'{ratio(seconds[OLD], seconds[name]):.2f}x')
    report.tables.append(montage_table)
    report.targets.append(at_least('make_montages on one process not slowed by the new exchange '
                                   '(>= 0.9x the all-gather path; our check of "unchanged")',
                                   ratio(seconds[OLD], seconds[NEW]), 0.9))
    report.notes += [
        f'Own patch bytes per rank: {settings.grid ** 2} x {settings.images_per_rank} x 3 x '
        f'{settings.patch_size} x {settings.patch_size} uint8 = {megabytes(own):.2f} MiB. '
        'Received = bytes written into the rank\'s output buffers by torch.distributed '
        'all_gather / all_to_all_single / broadcast (wrapped to count; the permutation broadcast '
        'included), the largest over ranks; "from other ranks" leaves out the rank\'s own slice.',
        'Both paths are checked to return identical slots and targets for the same permutation '
        'on every rank. Exchange ms: slowest rank, best of the repeats, gloo on this machine\'s '
        'CPU cores (all processes share them): indicative only.',
        'make_montages on one process: data_samples=None (no photometric augmentation), '
        'exchange_patches swapped for exchange_by_all_gather in the algorithm\'s module; the two '
        'paths called alternately, median per call.',
    ]
    return report


SECTION = Section(
    name='exchange',
    title='(f) montage exchange: bytes received per rank, all-gather vs all_to_all',
    description="""\
Bytes each rank receives per step for the old (all-gather everything, keep 1/world) and the new
(all_to_all: only this rank's montages' patches) exchange, at several world sizes (gloo
processes on the CPU, collectives wrapped to count), as a ratio to the rank's own uint8 patch
bytes; plus make_montages' step time on one process with both paths.""",
    settings=ExchangeSettings,
    run=run,
    cuda_defaults=dict(steps=50, warmup=5),
)
