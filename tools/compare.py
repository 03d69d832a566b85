"""Compare pretrainings on paired seeds: intervals, Holm-corrected contrasts and verdicts.

Usage:
    python tools/compare.py COMPARISON_CONFIG --work-dir DIR [--seeds K] [--jobs N]
        [--threads T] [--gpus 0 1 ...] [--arms NAME ...] [--report-only]
        [--cfg-options key=value ...] [--pretrain-options key=value ...]
        [--probe-options key=value ...] [--dense-options key=value ...]

COMPARISON_CONFIG (``configs/comparisons/*.py``; its keys: mejigclu_mm/cli/comparison/spec.py)
names the arms (pretraining configs, with options), the seeds, the probes and the contrasts.
For every seed the comparison uses common random numbers: one initial backbone
(``seedK/initial_backbone.pth``, the network a pretraining with that seed starts from), loaded
into every arm; one batch order (``DisjointSubsetBatchSampler`` in every arm); the same
preprocessor draws (``random_seed`` = the seed). Each arm is pretrained by tools/train.py and
probed by tools/probe_backbone.py (kNN, linear probe; segmentation and box-naming probes on the
scenes); the baseline arm is the initial backbone itself, probed. DIR gets ``results.md``,
``results.json`` and ``paired_seeds.png``: per arm the mean with its 95 % t-interval, per
contrast the paired difference with its interval, Holm-corrected, the smallest difference the
seeds could detect (80 % power), and a verdict.

A killed comparison continues from the runs it has (an interrupted pretraining resumes from its
last checkpoint); DIR holds one comparison: another config or other options are refused, more
seeds extend it. ``--jobs N`` runs N jobs at once, each with ``--threads`` threads (on GPUs:
one job per GPU of ``--gpus``).
"""
import argparse
import json
import os
import os.path as osp
import sys

import torch

import mejigclu_mm  # noqa: F401  (registrations)
from mejigclu_mm.cli.comparison.jobs import run_jobs
from mejigclu_mm.cli.comparison.report import write_report
from mejigclu_mm.cli.comparison.runs import check_same_backbone, plan
from mejigclu_mm.cli.comparison.spec import (RECORD_FILE, ComparisonError, check_work_dir,
                                             comparison_record, load_spec)
from mejigclu_mm.cli.dict_action import DictAction
from mejigclu_mm.runtime.atomic_write import atomic_write
from mejigclu_mm.runtime.known_warnings import quiet_known_warnings
from mejigclu_mm.runtime.work_dir_lock import WorkDirBusyError, WorkDirLock


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='comparison config (configs/comparisons/*.py)')
    parser.add_argument('--work-dir', required=True, help='the comparison\'s folder')
    parser.add_argument('--seeds', type=int, help='the first K seeds of the config\'s list '
                        '(default: all of them)')
    parser.add_argument('--jobs', type=int, default=1, help='jobs at once (default 1)')
    parser.add_argument('--threads', type=int, default=max(1, (os.cpu_count() or 1)),
                        help='OpenMP / MKL threads per job (default: all cores; with --jobs N '
                        'on a CPU give cores / N)')
    parser.add_argument('--gpus', type=int, nargs='*', default=None,
                        help='GPU indices, one job each (default: every visible GPU)')
    parser.add_argument('--arms', nargs='+', metavar='NAME',
                        help='run only these arms of the config (and the baseline); contrasts '
                        'of the others are left out, with a line that says so')
    parser.add_argument('--report-only', action='store_true',
                        help='write the report from the runs there are, run nothing')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override comparison-config keys (e.g. seeds=[0,1])')
    parser.add_argument('--pretrain-options', nargs='+', action=DictAction, default={},
                        help='more options of every arm\'s pretraining (dotted keys of the '
                        'pretraining configs, e.g. train_cfg.max_epochs=12)')
    parser.add_argument('--probe-options', nargs='+', action=DictAction, default={},
                        help='more options of the frozen-probe config (e.g. '
                        'train_dataloader.dataset.indices=2500)')
    parser.add_argument('--dense-options', nargs='+', action=DictAction, default={},
                        help='dense_probes keys (scenes=DIR train_scenes=N test_split=test)')
    return parser.parse_args(argv)


def select_arms(spec, names) -> None:
    """Keep the arms ``names`` (and the baseline) of the comparison config and their contrasts.

    Raises:
        ComparisonError: a name is no arm of the config.
    """
    unknown = [name for name in names if name not in spec.arms]
    if unknown:
        raise ComparisonError(f'--arms {unknown}: not arms of the config ({list(spec.arms)})')
    spec.arms = {name: arm for name, arm in spec.arms.items() if name in names}
    kept = set(names) | {spec.get('baseline')}
    dropped = [c for c in spec.contrasts if not set(c) <= kept]
    spec.contrasts = [c for c in spec.contrasts if set(c) <= kept]
    if dropped:
        left_out = ', '.join(' - '.join(contrast) for contrast in dropped)
        print(f'compare: --arms leaves out the contrasts {left_out}')


def main(argv=None):
    quiet_known_warnings()
    args = parse_args(argv)
    try:
        spec = load_spec(args.config, args.cfg_options)
        spec.pretrain_options = dict(spec.get('pretrain_options') or {}, **args.pretrain_options)
        spec.frozen_probes.options = dict(spec.frozen_probes.get('options') or {},
                                          **args.probe_options)
        if args.dense_options:
            spec.dense_probes = dict(spec.get('dense_probes') or {}, **args.dense_options)
        if args.arms:
            select_arms(spec, args.arms)
        seeds = list(spec.seeds)
        if args.seeds is not None:
            if not 1 <= args.seeds <= len(seeds):
                raise ComparisonError(f'--seeds {args.seeds}: the config lists {len(seeds)} '
                                      f'seeds ({seeds}); give 1 to {len(seeds)}, or more seeds '
                                      'in the config (--cfg-options "seeds=[0,1,...]")')
            seeds = seeds[:args.seeds]
        record = comparison_record(spec, seeds)
        stored = check_work_dir(args.work_dir, record)
        check_same_backbone(record)
    except ComparisonError as error:
        raise SystemExit(f'compare: {error}') from None
    gpus = args.gpus if args.gpus is not None else list(range(torch.cuda.device_count()))
    lock = WorkDirLock(args.work_dir)
    try:
        lock.acquire()
        with atomic_write(osp.join(args.work_dir, RECORD_FILE)) as file:
            json.dump(stored, file, indent=1)
        failed = []
        if not args.report_only:
            failed = run_jobs(plan(record, seeds, args.work_dir), parallel=args.jobs,
                              threads=args.threads, gpus=gpus)
        try:
            report = write_report(record, seeds, args.work_dir)
        except ValueError as error:
            raise SystemExit(f'compare: {error}') from None
    except WorkDirBusyError as error:
        raise SystemExit(str(error)) from None
    finally:
        lock.release()
    print(report['markdown'])
    print(f'wrote {args.work_dir}/results.md, results.json, paired_seeds.png')
    if failed:
        print('FAILED: ' + '; '.join(failed), file=sys.stderr)
        raise SystemExit(1)
    return report


if __name__ == '__main__':
    main()
