"""Command-line options shared by ``tools/knn_eval.py`` and ``tools/linear_probe.py``."""
import argparse
import json
import os.path as osp
import time
from typing import Callable, Dict, Sequence

import torch
from mmengine.config import Config

from mejigclu_mm.cli.dict_action import DictAction
from mejigclu_mm.evaluation.feature_cache import (FeatureCacheError, cache_key, load_cache,
                                                  save_cache)
from mejigclu_mm.evaluation.frozen_backbone import RANDOM_INIT, config_features
from mejigclu_mm.runtime.atomic_write import atomic_write
from mejigclu_mm.runtime.known_warnings import quiet_known_warnings
from mejigclu_mm.runtime.output_guard import check_output as guard_output

# What each tool's results JSON holds, to recognise a file it may write over (--out).
RESULT_KEYS: Dict[str, Callable[[dict], bool]] = {
    'knn_eval.py': lambda results: isinstance(results.get('knn'), dict),
    'linear_probe.py': lambda results: 'top1' in results and 'holdout_top1' in results,
}


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """CONFIG, CHECKPOINT and the options both tools take."""
    parser.add_argument('config', help='classification config: its train / val dataloaders give '
                        'the labelled data, its model the backbone')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint for the backbone (pretraining, '
                        f'classifier or converted file); "{RANDOM_INIT}" for a random backbone')
    parser.add_argument('--random-init', action='store_true',
                        help=f'evaluate a randomly initialised backbone (CHECKPOINT {RANDOM_INIT})')
    parser.add_argument('--prefix', default='auto',
                        help='where the backbone stands in CHECKPOINT, the keys as stored in the '
                        'file (e.g. "backbone.", "module.encoder.", "" for the top level); "auto" '
                        '(default) finds it')
    parser.add_argument('--out', help='write the results to this JSON file (written atomically; '
                        'an existing file is replaced only when it holds this tool\'s results)')
    parser.add_argument('--batch-size', type=int, help='override the dataloaders\' batch size')
    parser.add_argument('--num-workers', type=int, help='override the dataloaders\' workers')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu',
                        help='device for the backbone and the solver (default: cuda if available)')
    parser.add_argument('--seed', type=int, default=0, help='seed (random init, splits)')
    parser.add_argument('--features', metavar='FILE.pth',
                        help='cache: load the features from FILE when it was written for the same '
                        'merged config (after --cfg-options), checkpoint content, --prefix, '
                        '--seed and data files (their content up to 1 GB in all, else their '
                        'names, sizes and modification times), else extract them and save them '
                        'there (lets knn_eval.py and linear_probe.py share one extraction); a '
                        'FILE that is no features cache is refused, never replaced')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')


def checkpoint_from_args(args: argparse.Namespace) -> str:
    """CHECKPOINT, or ``'none'`` with ``--random-init``; exits with a message when neither."""
    if args.random_init:
        return RANDOM_INIT
    if not args.checkpoint:
        raise SystemExit(f'give a CHECKPOINT, or "{RANDOM_INIT}" / --random-init for a random '
                         'backbone')
    if args.checkpoint.lower() != RANDOM_INIT and not osp.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint {args.checkpoint} does not exist or is not a file')
    return args.checkpoint


def _same_file(path: str, other) -> bool:
    return bool(other) and osp.exists(path) and osp.exists(other) and osp.samefile(path, other)


def _refuse_inputs(option: str, path: str, args: argparse.Namespace,
                   inputs: Sequence[str]) -> None:
    """SystemExit when ``path`` is one of the files the tool reads."""
    for name in inputs:
        if _same_file(path, getattr(args, name, None)):
            raise SystemExit(f'{option} {path} is the {name.upper()} this tool reads; it would '
                             f'be written over: give another {option} path')


def features_from_args(args: argparse.Namespace) -> dict:
    """Load the config, apply ``--cfg-options`` and extract bank and query features, or read
    them from the ``--features`` cache when it was written for the same inputs.

    Returns:
        dict: :func:`config_features`'s result plus ``checkpoint`` and ``seconds`` (the time
        the extraction took).

    Raises:
        SystemExit: ``--features`` is CONFIG or CHECKPOINT, not a features cache or damaged;
            or the features are not finite (the message names where they come from).
    """
    checkpoint = checkpoint_from_args(args)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    key = cached = None
    if args.features:
        _refuse_inputs('--features', args.features, args, ('config', 'checkpoint'))
        key = cache_key(cfg, checkpoint, args.prefix, args.seed,
                        random_init=checkpoint.lower() == RANDOM_INIT)
        try:
            cached = load_cache(args.features, key)
        except FeatureCacheError as error:
            raise SystemExit(f'{error}. It is neither read nor written over: give another '
                             '--features path (or delete the file to extract anew).') from None
    if cached is not None:
        check_finite(cached, f'the features cached in {args.features}')
        print(f'features: {len(cached["bank"])} train (bank) and {len(cached["query"])} query '
              f'images from {args.features}')
        return dict(cached, **{name: cached[name].to(args.device) for name in
                               ('bank', 'query', 'bank_labels', 'query_labels')})
    start = time.perf_counter()
    feats = config_features(cfg, checkpoint, args.prefix, args.device, args.batch_size,
                            args.num_workers, args.seed)
    feats.update(checkpoint=checkpoint, seconds=time.perf_counter() - start)
    print(f'features: {len(feats["bank"])} train (bank) and {len(feats["query"])} query images, '
          f'{feats["bank"].shape[1]} dims, {feats["num_classes"]} classes, '
          f'{feats["seconds"]:.1f} s on {args.device}')
    check_finite(feats, f'the backbone of {checkpoint}')
    if args.features:
        save_cache(args.features, key, feats)
    return feats


def check_finite(feats: dict, source: str) -> None:
    """SystemExit naming ``source`` when bank or query features hold NaN or Inf."""
    for split, name in (('bank', 'train (bank)'), ('query', 'query')):
        values = feats[split]
        bad = int((~torch.isfinite(values)).any(1).sum()) if values.numel() else 0
        if bad:
            raise SystemExit(
                f'{source}: {bad} of {len(values)} {name} features hold NaN or Inf values, so '
                'no result would mean anything. A diverged pretraining writes such weights: '
                'evaluate an earlier checkpoint of the run, or train it again with a lower '
                'learning rate.')


def _read_results(path: str):
    try:
        with open(path, encoding='utf-8') as file:
            return json.load(file)
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def _what_it_holds(path: str) -> str:
    results = _read_results(path)
    if isinstance(results, dict):
        others = [name for name, matches in RESULT_KEYS.items() if matches(results)]
        if others:
            return f'holds the results of {others[0]}'
    if results is None:
        return 'is not a JSON file'
    return 'holds JSON that is not this tool\'s results'


def check_output(path: str, tool: str, args: argparse.Namespace) -> None:
    """Refuse an ``--out`` path that this tool may not write over (before any work is done).

    The tool writes its JSON over nothing but an earlier result of its own (or an empty
    file): never over CONFIG, CHECKPOINT or the ``--features`` cache, another tool's results,
    or any other file (:func:`mejigclu_mm.runtime.output_guard.check_output`, the one guard of the
    tools' outputs; an earlier result is recognised by :data:`RESULT_KEYS`).

    Args:
        path (str): The ``--out`` option.
        tool (str): ``'knn_eval.py'`` or ``'linear_probe.py'``.
        args (argparse.Namespace): The parsed arguments (for the inputs).

    Raises:
        SystemExit: naming the file and what it holds.
    """
    _refuse_inputs('--out', path, args, ('config', 'checkpoint', 'features'))

    def is_own(candidate: str) -> bool:
        results = _read_results(candidate)
        return isinstance(results, dict) and RESULT_KEYS[tool](results)

    guard_output(path, tool, ('.json', ), is_own=is_own, describe=_what_it_holds)


def write_json(path: str, results: dict) -> None:
    """Write ``results`` to ``path`` atomically (folders created) and say so."""
    with atomic_write(path) as file:
        json.dump(results, file, indent=2)
    print(f'wrote {path}')


def tool_features(args: argparse.Namespace, tool: str) -> dict:
    """What a tool's ``main`` starts with: the stack's known warnings quieted, ``--out``
    checked first (nothing is computed for a path that would be refused), then
    :func:`features_from_args`.

    Args:
        args (argparse.Namespace): The tool's parsed arguments.
        tool (str): The tool's file name, e.g. 'knn_eval.py' (for :func:`check_output`).
    """
    quiet_known_warnings()
    if args.out:
        check_output(args.out, tool, args)
    return features_from_args(args)
