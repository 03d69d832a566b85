"""Train a model from a config (mmpretrain / mmdet style), with mejigclu_mm registered.

Usage:
    python tools/train.py CONFIG [--work-dir DIR] [--resume [auto|PATH]]
        [--amp] [--amp-dtype {float16,bfloat16}]
        [--cfg-options key=value ...] [--launcher {none,pytorch,slurm}]

Every run also gets, unless its config lists them already, ``RandomStateHook`` (``--resume``
repeats the uninterrupted run exactly) and ``DataloaderCheckHook`` (refuses data that cannot
give the steps the config promises). Without a GPU, ``--launcher pytorch`` / ``slurm`` train
with a gloo process group on the CPU (``tools/dist_train.sh CONFIG 2``).
"""
import argparse
import logging
import os.path as osp

import mejigclu_mm  # noqa: F401  (registrations and safe checkpoint loading, before anything)
import torch
from mmengine.config import Config, DictAction
from mmengine.device import get_device
from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from mejigclu_mm.engine.distributed import (add_launcher_arguments, init_cpu_distributed,
                                             parse_launcher_args)

# Hooks every run gets (mejigclu_mm.engine.hooks).
ALWAYS_HOOKS = ('RandomStateHook', 'DataloaderCheckHook')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from PATH, or with no PATH from the latest checkpoint in the work dir')
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
    """Append ``ALWAYS_HOOKS`` to ``cfg.custom_hooks``, each unless the config lists it."""
    hooks = list(cfg.get('custom_hooks') or [])
    present = {str(hook.get('type')).split('.')[-1] for hook in hooks if isinstance(hook, dict)}
    for name in ALWAYS_HOOKS:
        if name not in present:
            # The scope prefix finds it from mmdet's scope too (detection configs).
            hooks.append(dict(type=f'mmpretrain.{name}'))
    cfg.custom_hooks = hooks
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


def main(argv=None):
    args = parse_args(argv)
    cfg = merge_args(Config.fromfile(args.config), args)
    check_amp(cfg)
    init_cpu_distributed(cfg)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    runner.train()
    return runner


if __name__ == '__main__':
    main()
