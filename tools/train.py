"""Train a model from a config (mmpretrain / mmdet style), with mejigclu_mm registered.

Usage:
    python tools/train.py CONFIG [--work-dir DIR] [--resume [auto|PATH]]
        [--amp] [--amp-dtype {float16,bfloat16}]
        [--cfg-options key=value ...] [--launcher {none,pytorch,slurm}]

Every run also gets, unless its config lists them already, ``RandomStateHook`` (``--resume``
repeats the uninterrupted run exactly), ``DataloaderCheckHook`` (refuses data that cannot
give the steps the config promises) and ``NonFiniteLossHook`` (stops at the first NaN / Inf
loss); mmengine's ``CheckpointHook`` is replaced by ``AtomicCheckpointHook`` (same arguments;
a failed save never costs the previous checkpoint), and ``SafeCheckpointHook`` loads
checkpoints with the safe loader and saves them free of references it would refuse. Without a
GPU, ``--launcher pytorch`` / ``slurm`` train with a gloo process group on the CPU
(``tools/dist_train.sh CONFIG 2``).

Nothing is lost or ignored silently: the work dir is locked while the run lasts (a second run
into it is refused); a new run into a work dir that holds checkpoints needs ``--resume`` or
``--overwrite``; ``--resume`` stops when there is nothing to resume, finds the checkpoints of a
moved work dir, continues with the checkpoint's seed, and refuses a checkpoint of another
model or global batch before anything loads; ``--cfg-options`` keys that nothing reads are
named with the closest existing keys.
"""
import argparse
import logging
import os
import os.path as osp
from typing import Optional

import torch
from mmengine.config import Config, DictAction
from mmengine.device import get_device
from mmengine.dist import get_world_size
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import mejigclu_mm  # noqa: F401  (registrations, before anything)
from mejigclu_mm.cli.launcher_args import add_launcher_arguments, parse_launcher_args
from mejigclu_mm.runtime import safe_checkpoint_loading
from mejigclu_mm.runtime.config_options import unknown_option_warnings
from mejigclu_mm.runtime.cpu_distributed import init_cpu_distributed
from mejigclu_mm.runtime.known_warnings import quiet_known_warnings
from mejigclu_mm.runtime.resume import (ResumeError, check_resume_fits, find_resume_checkpoint,
                                        read_training_checkpoint, training_checkpoints)
from mejigclu_mm.runtime.work_dir_lock import WorkDirBusyError, WorkDirLock

# Hooks every run gets (mejigclu_mm.runtime.hooks).
ALWAYS_HOOKS = ('RandomStateHook', 'DataloaderCheckHook', 'NonFiniteLossHook')
# mmengine's checkpoint hook, and ours that every run uses in its place
CHECKPOINT_HOOKS = ('CheckpointHook', 'AtomicCheckpointHook')


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
        help='override config settings, key=value (e.g. train_dataloader.batch_size=32)')
    add_launcher_arguments(parser)
    return parse_launcher_args(parser, argv)


def add_hooks(cfg: Config) -> Config:
    """Append ``ALWAYS_HOOKS`` to ``cfg.custom_hooks``, each unless the config lists it, add
    ``SafeCheckpointHook`` to ``default_hooks`` and save checkpoints with
    ``AtomicCheckpointHook`` instead of mmengine's ``CheckpointHook``."""
    hooks = list(cfg.get('custom_hooks') or [])
    present = {str(hook.get('type')).split('.')[-1] for hook in hooks if isinstance(hook, dict)}
    for name in ALWAYS_HOOKS:
        if name not in present:
            # The scope prefix finds it from mmdet's scope too (detection configs).
            hooks.append(dict(type=f'mmpretrain.{name}'))
    cfg.custom_hooks = hooks
    # Safe checkpoint loading during the run, and checkpoints that load safely (our configs
    # list it already; the detection configs inherit mmdet's runtime).
    cfg.default_hooks = cfg.get('default_hooks') or {}
    cfg.default_hooks.setdefault('safe_checkpoint', dict(type='mmpretrain.SafeCheckpointHook'))
    checkpoint = (cfg.get('default_hooks') or {}).get('checkpoint')
    if isinstance(checkpoint, dict):
        kind = str(checkpoint.get('type')).split('.')[-1]
        if kind in CHECKPOINT_HOOKS:
            checkpoint['type'] = 'mmpretrain.AtomicCheckpointHook'  # the config's arguments kept
        else:
            print_log(f'default_hooks.checkpoint is {checkpoint.get("type")}, kept as the config '
                      'says: its checkpoints are not written atomically (AtomicCheckpointHook '
                      'replaces only mmengine\'s CheckpointHook)', logger='current',
                      level=logging.WARNING)
    return cfg


def merge_args(cfg: Config, args) -> Config:
    """Apply the command-line options to ``cfg``."""
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
    if args.cfg_options is not None:
        for warning in unknown_option_warnings(cfg, args.cfg_options):
            print_log(warning, logger='current', level=logging.WARNING)
        cfg.merge_from_dict(args.cfg_options)
    return add_hooks(cfg)


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


def checkpoint_dirs(cfg: Config) -> list:
    """The folders a run's checkpoints go to: the work dir and the checkpoint hook's
    ``out_dir`` (mmengine puts them in ``out_dir/<work dir's name>``)."""
    folders = [cfg.work_dir]
    out_dir = ((cfg.get('default_hooks') or {}).get('checkpoint') or {}).get('out_dir')
    if out_dir:
        folders.append(osp.join(out_dir, osp.basename(osp.normpath(cfg.work_dir))))
    return folders


def prepare_work_dir(cfg: Config, args) -> Optional[dict]:
    """Decide what the run starts from, before the Runner loads anything.

    A new run into a work dir with checkpoints needs ``--overwrite``. A resumed run gets the
    checkpoint ``--resume`` names or finds (:func:`find_resume_checkpoint`) as ``load_from``
    and the checkpoint's seed as ``randomness.seed``, so that the sampler and every other
    generator are seeded as in the interrupted run (mmengine applies it after building them).

    Returns:
        dict | None: :func:`read_training_checkpoint`'s summary of the checkpoint to resume.

    Raises:
        ResumeError: nothing to resume, not a training checkpoint, or ``--resume`` together
            with ``--overwrite``; SystemExit: checkpoints in the work dir and neither flag.
    """
    if not cfg.get('resume'):
        found = [path for folder in checkpoint_dirs(cfg)
                 for path in training_checkpoints(folder)]
        if osp.isfile(osp.join(cfg.work_dir, 'last_checkpoint')):
            found.append(osp.join(cfg.work_dir, 'last_checkpoint'))
        if found and not args.overwrite:
            names = ', '.join(osp.basename(path) for path in found[-4:])
            raise SystemExit(
                f'work dir {cfg.work_dir} holds checkpoints of an earlier run ({names}): '
                'continue it with --resume, or start again with --overwrite (this run\'s '
                'checkpoints then replace them), or give another --work-dir.')
        if found:
            print_log(f'--overwrite: {cfg.work_dir} holds checkpoints of an earlier run; this '
                      'run\'s checkpoints replace them as it saves', logger='current',
                      level=logging.WARNING)
        return None
    if args.overwrite:
        raise ResumeError('--resume continues the run in the work dir and --overwrite starts '
                          'a new one over it: give one of them')
    if not cfg.get('load_from'):
        cfg.load_from = find_resume_checkpoint(cfg.work_dir)
    summary = read_training_checkpoint(cfg.load_from)
    if summary['seed'] is not None:
        randomness = dict(cfg.get('randomness') or {})
        if randomness.get('seed') is not None and randomness['seed'] != summary['seed']:
            print_log(f'--resume: randomness.seed={randomness["seed"]} is replaced by the seed '
                      f'of the resumed run, {summary["seed"]} ({cfg.load_from})',
                      logger='current', level=logging.WARNING)
        cfg.randomness = dict(randomness, seed=summary['seed'])
    return summary


def global_batch_of(cfg: Config) -> Optional[int]:
    """Images per training step over all processes, as ``cfg`` sets them."""
    loader = cfg.get('train_dataloader') or {}
    batch_size = loader.get('batch_size') or (loader.get('batch_sampler') or {}).get(
        'batch_size')
    return None if batch_size is None else int(batch_size) * get_world_size()


def is_launch_rank_zero() -> bool:
    """Whether this process is the first of its run (before any process group exists)."""
    return int(os.environ.get('RANK', os.environ.get('SLURM_PROCID', '0'))) == 0


def main(argv=None):
    quiet_known_warnings()
    args = parse_args(argv)
    cfg = merge_args(Config.fromfile(args.config), args)
    check_amp(cfg)
    init_cpu_distributed(cfg)
    lock = WorkDirLock(cfg.work_dir)
    try:
        if cfg.get('resume') and not cfg.get('load_from') and not osp.isdir(cfg.work_dir):
            find_resume_checkpoint(cfg.work_dir)  # refuses, before the lock creates the dir
        if is_launch_rank_zero():
            lock.acquire()
        resumed = prepare_work_dir(cfg, args)
        runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
        if resumed is not None:
            model = runner.model.module if is_model_wrapper(runner.model) else runner.model
            check_resume_fits(resumed, model, global_batch_of(cfg), get_world_size())
        with safe_checkpoint_loading():  # also restored when the run fails (no after_run)
            runner.train()
    except (ResumeError, WorkDirBusyError) as error:
        raise SystemExit(str(error)) from None
    finally:
        lock.release()
    return runner


if __name__ == '__main__':
    main()
