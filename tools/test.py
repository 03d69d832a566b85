"""Evaluate a checkpoint with a config's test loop (mmpretrain / mmdet style).

Usage:
    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--cfg-options key=value ...]
        [--launcher {none,pytorch,slurm}] [--out RESULTS.pkl]

CHECKPOINT must hold the config's whole model, as ``tools/train.py CONFIG`` writes it: one that
leaves tensors out (e.g. a pretraining checkpoint given with a linear config, which has no
``head.*``) is refused with the missing keys, instead of evaluating a partly random model, and so
is one with NaN or Inf weights or a file that is no checkpoint. Checkpoints load with the safe
loader (``mejigclu_mm.runtime.safe_checkpoint_loading``).
"""
import argparse
import os.path as osp
import pickle

from mmengine.config import Config
from mmengine.model import is_model_wrapper
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import mejigclu_mm  # noqa: F401  (registrations)
from mejigclu_mm.cli.dict_action import DictAction
from mejigclu_mm.cli.launcher_args import add_launcher_arguments, parse_launcher_args
from mejigclu_mm.runtime import (NonFiniteCheckpointError, NotACheckpointError,
                                 safe_checkpoint_loading)
from mejigclu_mm.runtime.cpu_distributed import init_cpu_distributed
from mejigclu_mm.runtime.known_warnings import quiet_known_warnings
from mejigclu_mm.runtime.output_guard import check_output, write_output
from mejigclu_mm.transfer import (CheckpointLayoutError, check_finite, describe_uncovered,
                                  key_groups, read_checkpoint_weights, uncovered,
                                  without_ddp_prefix)

TOOL = 'tools/test.py'
OUT_SUFFIXES = ('.json', '.yaml', '.yml', '.pkl', '.pickle')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test a checkpoint')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where the test logs and metrics go')
    parser.add_argument('--out', help='also dump the metrics to this file (json/yaml/pkl)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    add_launcher_arguments(parser)
    return parse_launcher_args(parser, argv)


def check_checkpoint_covers(model, checkpoint: str, config: str) -> None:
    """Refuse ``checkpoint`` unless it holds every tensor of ``model`` (extra ones are fine).

    Args:
        model (nn.Module): The config's model, as the runner built it.
        checkpoint (str): The checkpoint to test.
        config (str): The config file, for the message.

    Raises:
        SystemExit: the checkpoint cannot be read or leaves tensors out; says which and what to
            do instead.
    """
    model = model.module if is_model_wrapper(model) else model
    try:
        weights = read_checkpoint_weights(checkpoint)
        state = without_ddp_prefix(weights.tensors)  # as mmengine's load_checkpoint reads it
    except (FileNotFoundError, EOFError, pickle.UnpicklingError, CheckpointLayoutError,
            NotACheckpointError) as error:
        raise SystemExit(f'test: {checkpoint}: {error}') from None
    missing, mismatched = uncovered(model, state)
    if missing or mismatched:
        raise SystemExit(
            f'test: {checkpoint} does not hold the model of {config} '
            f'({type(model).__name__}): {describe_uncovered(model, missing, mismatched)}. Its '
            f'keys start with: {key_groups(state)[:12]}. tools/test.py evaluates a checkpoint '
            f'of this config\'s whole model, as tools/train.py {config} writes it. A pretraining '
            f'checkpoint or a converted backbone initialises the backbone instead: train first '
            f'with tools/train.py {config} --cfg-options '
            f'model.backbone.init_cfg.checkpoint={checkpoint}, then test the checkpoint in that '
            f'run\'s work dir')
    try:
        check_finite({weights.stored(name): value for name, value in state.items()
                      if name in model.state_dict()}, checkpoint)
    except NonFiniteCheckpointError as error:
        raise SystemExit(f'test: {error}') from None


def main(argv=None):
    quiet_known_warnings()
    args = parse_args(argv)
    if args.out:  # before any work: never over an input or another tool's file
        check_output(args.out, TOOL, OUT_SUFFIXES, inputs=(args.config, args.checkpoint))
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    cfg.load_from = args.checkpoint
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        './work_dirs', osp.splitext(osp.basename(args.config))[0])
    init_cpu_distributed(cfg)  # without a GPU, --launcher pytorch / slurm use gloo
    with safe_checkpoint_loading():  # load_from through the safe loader
        runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
        check_checkpoint_covers(runner.model, args.checkpoint, args.config)
        metrics = runner.test()
    if args.out:
        write_output(args.out, metrics, TOOL)
    return metrics


if __name__ == '__main__':
    main()
