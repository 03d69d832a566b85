"""Train a model from a config (mmpretrain / mmdet style), with mejigclu_mm registered.

Usage:
    python tools/train.py CONFIG [--work-dir DIR] [--resume [auto|PATH]] [--overwrite]
        [--amp] [--amp-dtype {float16,bfloat16}]
        [--cfg-options key=value ...] [--launcher {none,pytorch,slurm}]

What a run gets comes from its config, so mmpretrain's, mmdet's or mmengine's own train.py (or
``mim train``) give the same run: every shipped config names ``GuardedRunner``
(``runner_type``) and lists the guard hooks (``configs/_base_/run_guards.py``): safe loading,
atomic checkpoints, exact resume and its checks, the work-dir lock, ``run.json``, the record of
the merged config, the stop at a non-finite loss, the data checks, the CPU gloo process group
(docs/design.md, "The route of the guards"). A config from elsewhere gets ``GuardedRunner``
here too, which adds the hooks it lacks.

Only this tool adds: ``--overwrite`` (``overwrite=True`` in the config elsewhere) and the
refusal of ``--resume`` with it; ``--amp-dtype``; the refusal of ``--amp`` without a GPU;
``--cfg-options`` values kept as typed (mmengine's parser removes their spaces) and a warning
for each key nothing reads; and refusals of a work dir that holds checkpoints or is in use
before the Runner writes its log folder.
"""
import argparse
import logging
import os
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.device import get_device
from mmengine.logging import print_log
from mmengine.registry import RUNNERS

import mejigclu_mm  # noqa: F401  (registrations, before anything)
from mejigclu_mm.cli.dict_action import DictAction
from mejigclu_mm.cli.launcher_args import add_launcher_arguments, parse_launcher_args
from mejigclu_mm.runtime.config_options import unknown_option_warnings
from mejigclu_mm.runtime.known_warnings import quiet_known_warnings
from mejigclu_mm.runtime.mmengine_internals import RUNNER_TYPE
from mejigclu_mm.runtime.resume import ResumeError, find_resume_checkpoint
from mejigclu_mm.runtime.run_record import WorkDirError, check_new_run
from mejigclu_mm.runtime.work_dir_lock import WorkDirBusyError, WorkDirLock


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from PATH, or with no PATH from the latest checkpoint in the work dir')
    parser.add_argument(
        '--overwrite', action='store_true',
        help='start a new run in a work dir that holds checkpoints of an earlier run (they are '
             'replaced as this run saves its own); without it such a run is refused')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision (float16 unless --amp-dtype); GPU only')
    parser.add_argument(
        '--amp-dtype', choices=['float16', 'bfloat16'],
        help='autocast type, implies --amp: bfloat16 for GPUs with native bf16 (Ampere / '
             'compute capability 8.0 and later), float16 for older ones')
    parser.add_argument('--no-validate', action='store_true', help='skip validation')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, key=value (e.g. train_dataloader.batch_size=32); '
             'values are kept as typed, spaces included')
    add_launcher_arguments(parser)
    return parse_launcher_args(parser, argv)


def merge_args(cfg: Config, args) -> Config:
    """Apply the command-line options to ``cfg``; a config that names no Runner gets
    ``GuardedRunner``."""
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    if args.amp or args.amp_dtype:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        if args.amp_dtype:
            cfg.optim_wrapper.dtype = args.amp_dtype
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    if getattr(args, 'overwrite', False):
        cfg.overwrite = True
    if args.cfg_options is not None:
        for warning in unknown_option_warnings(cfg, args.cfg_options):
            print_log(warning, logger='current', level=logging.WARNING)
        cfg.merge_from_dict(args.cfg_options)
    if 'runner_type' not in cfg:
        cfg.runner_type = RUNNER_TYPE
    return cfg


def check_amp(cfg: Config) -> None:
    """Refuse mixed precision where mmengine 0.10.7's AmpOptimWrapper cannot run, clearly.

    Raises:
        SystemExit: ``AmpOptimWrapper`` on a machine without GPU (mmengine asserts one).
    """
    optim_wrapper = cfg.get('optim_wrapper') or {}
    if optim_wrapper.get('type') != 'AmpOptimWrapper':
        return
    dtype = optim_wrapper.get('dtype') or 'float16'
    if get_device() == 'cpu':
        raise SystemExit(
            f'--amp / --amp-dtype ({dtype}) needs a GPU: mmengine 0.10.7\'s AmpOptimWrapper '
            'supports CUDA, NPU, MLU and MUSA devices only, and this machine has none. Train '
            'without --amp here (or remove optim_wrapper.type=AmpOptimWrapper from the config).')
    if dtype == 'bfloat16' and get_device() == 'cuda':
        if not torch.cuda.is_bf16_supported(including_emulation=False):
            print_log(f'--amp-dtype bfloat16: {torch.cuda.get_device_name()} has no native '
                      'bfloat16 (compute capability < 8.0) and emulates it slowly; '
                      '--amp-dtype float16 is the faster choice on this GPU',
                      logger='current', level=logging.WARNING)


def is_launch_rank_zero() -> bool:
    """Whether this process is the first of its run (before any process group exists)."""
    return int(os.environ.get('RANK', os.environ.get('SLURM_PROCID', '0'))) == 0


def check_work_dir(cfg: Config) -> None:
    """The refusals ``GuardedRunner.train`` makes too, made before the Runner writes its log
    folder: a work dir in use (probed, then released: the Runner holds it while it trains),
    a new run over checkpoints without ``overwrite``, and ``--resume`` into a work dir that
    does not exist (before the lock would create it)."""
    if cfg.get('resume') and not cfg.get('load_from') and not osp.isdir(cfg.work_dir):
        find_resume_checkpoint(cfg.work_dir)  # refuses: nothing to resume
    if is_launch_rank_zero():
        with WorkDirLock(cfg.work_dir):
            pass
    if not cfg.get('resume'):
        check_new_run(cfg)


def main(argv=None):
    quiet_known_warnings()
    args = parse_args(argv)
    try:
        if args.resume is not None and args.overwrite:
            raise ResumeError('--resume continues the run in the work dir and --overwrite '
                              'starts a new one over it: give one of them')
        cfg = merge_args(Config.fromfile(args.config), args)
        check_amp(cfg)
        check_work_dir(cfg)
        runner = RUNNERS.build(cfg)
        runner.train()
    except (ResumeError, WorkDirBusyError, WorkDirError) as error:
        raise SystemExit(str(error)) from None
    return runner


if __name__ == '__main__':
    main()
