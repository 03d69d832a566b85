"""Command-line options shared by ``tools/knn_eval.py`` and ``tools/linear_probe.py``."""
import argparse
import json
import os
import os.path as osp
import time

import torch
from mmengine.config import Config, DictAction

from .frozen_backbone import RANDOM_INIT, config_features


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """CONFIG, CHECKPOINT and the options both tools take."""
    parser.add_argument('config', help='classification config: its train / val dataloaders give '
                        'the labelled data, its model the backbone')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint for the backbone (pretraining, '
                        f'classifier or converted file); "{RANDOM_INIT}" for a random backbone')
    parser.add_argument('--random-init', action='store_true',
                        help=f'evaluate a randomly initialised backbone (CHECKPOINT {RANDOM_INIT})')
    parser.add_argument('--prefix', default='auto',
                        help='key prefix of the backbone in CHECKPOINT: "auto" (default) uses '
                        '"backbone." when the file has such keys, else the file as it is')
    parser.add_argument('--out', help='write the results to this JSON file')
    parser.add_argument('--batch-size', type=int, help='override the dataloaders\' batch size')
    parser.add_argument('--num-workers', type=int, help='override the dataloaders\' workers')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu',
                        help='device for the backbone and the solver (default: cuda if available)')
    parser.add_argument('--seed', type=int, default=0, help='seed (random init, splits)')
    parser.add_argument('--features', metavar='FILE.pth',
                        help='cache: load the features from FILE when it was written for the same '
                        'config, options and checkpoint, else extract them and save them there '
                        '(lets knn_eval.py and linear_probe.py share one extraction)')
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


def features_from_args(args: argparse.Namespace) -> dict:
    """Load the config, apply ``--cfg-options`` and extract bank and query features.

    Returns:
        dict: :func:`config_features`'s result plus ``checkpoint`` and ``seconds`` (the time
        the extraction took).
    """
    checkpoint = checkpoint_from_args(args)
    cached = _load_cached(args, checkpoint)
    if cached is not None:
        print(f'features: {len(cached["bank"])} train (bank) and {len(cached["query"])} query '
              f'images from {args.features}')
        return dict(cached, bank=cached['bank'].to(args.device),
                    query=cached['query'].to(args.device),
                    bank_labels=cached['bank_labels'].to(args.device),
                    query_labels=cached['query_labels'].to(args.device))
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    start = time.perf_counter()
    feats = config_features(cfg, checkpoint, args.prefix, args.device, args.batch_size,
                            args.num_workers, args.seed)
    feats.update(checkpoint=checkpoint, seconds=time.perf_counter() - start)
    print(f'features: {len(feats["bank"])} train (bank) and {len(feats["query"])} query images, '
          f'{feats["bank"].shape[1]} dims, {feats["num_classes"]} classes, '
          f'{feats["seconds"]:.1f} s on {args.device}')
    if args.features:
        if osp.dirname(args.features):
            os.makedirs(osp.dirname(args.features), exist_ok=True)
        torch.save(dict(key=_cache_key(args, checkpoint), features={
            k: v.cpu() if torch.is_tensor(v) else v for k, v in feats.items()}), args.features)
    return feats


def _cache_key(args: argparse.Namespace, checkpoint: str) -> dict:
    """What the features depend on: config, options, checkpoint (path and file state)."""
    state = 'none'
    if checkpoint.lower() != RANDOM_INIT:
        info = os.stat(checkpoint)
        state = f'{osp.abspath(checkpoint)}:{info.st_size}:{info.st_mtime_ns}'
    return dict(config=osp.abspath(args.config), cfg_options=str(args.cfg_options),
                checkpoint=state, prefix=args.prefix, seed=args.seed)


def _load_cached(args: argparse.Namespace, checkpoint: str):
    """The cached features of ``--features`` when they match this call, else None."""
    if not args.features or not osp.isfile(args.features):
        return None
    cached = torch.load(args.features, map_location='cpu', weights_only=True)
    if cached.get('key') != _cache_key(args, checkpoint):
        print(f'{args.features} holds features of another config / checkpoint: extracting anew')
        return None
    return cached['features']


def write_json(path: str, results: dict) -> None:
    """Write ``results`` to ``path`` (folders created) and say so."""
    if osp.dirname(path):
        os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as file:
        json.dump(results, file, indent=2)
    print(f'wrote {path}')
