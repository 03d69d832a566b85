"""Frozen kNN / probe of a backbone with its BN statistics as they are, and re-estimated.

Usage:
    python tools/dev/bn_statistics.py CONFIG CHECKPOINT [--seeds 0 1 2] [--bank 2500]
        [--queries 5000]

The measurement behind docs/evaluation.md's choice for the random baseline (CHECKPOINT
``none``): its BN layers keep the statistics they are initialised with (mean 0, variance 1),
or those are re-estimated on the bank (training) images before the frozen evaluation (every BN
layer's running mean / variance averaged over one pass in train mode, no gradient). Prints
one line per seed and variant.
"""
import argparse
import time

import torch
from mmengine.config import Config
from torch.nn.modules.batchnorm import _BatchNorm

import mejigclu_mm  # noqa: F401  (registrations)
from mejigclu_mm.evaluation import (build_frozen_classifier, evaluation_dataloaders,
                                    extract_features, knn_accuracy, linear_probe)


@torch.no_grad()
def reestimate_bn(backbone, data_preprocessor, loader) -> None:
    """Replace every BN layer's running statistics by their average over ``loader``."""
    layers = [m for m in backbone.modules() if isinstance(m, _BatchNorm)]
    for layer in layers:
        layer.reset_running_stats()
        layer.momentum = None  # cumulative average
        layer.train()
    for data in loader:
        backbone(data_preprocessor(data, False)['inputs'])
    for layer in layers:
        layer.eval()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', help='a checkpoint, or "none" for the random baseline')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--bank', type=int, default=2500, help='training images (bank)')
    parser.add_argument('--queries', type=int, default=5000, help='validation images')
    args = parser.parse_args(argv)
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict({'train_dataloader.dataset.indices': args.bank,
                         'val_dataloader.dataset.indices': args.queries})
    for seed in args.seeds:
        model = build_frozen_classifier(cfg, args.checkpoint, seed=seed)
        bank_loader, query_loader = evaluation_dataloaders(cfg)
        for variant in ('as they are', 're-estimated'):
            if variant == 're-estimated':
                reestimate_bn(model.backbone, model.data_preprocessor, bank_loader)
            start = time.perf_counter()
            bank, bank_labels = extract_features(model.data_preprocessor, model.backbone,
                                                 bank_loader)
            query, query_labels = extract_features(model.data_preprocessor, model.backbone,
                                                   query_loader)
            classes = int(bank_labels.max()) + 1
            knn = knn_accuracy(query, query_labels, bank, bank_labels, classes, (20, ))[20]
            probe = linear_probe(bank, bank_labels, query, query_labels, classes, seed=seed)
            print(f'seed {seed}, BN statistics {variant}: kNN k=20 top-1 {knn:.2f}, probe '
                  f'top-1 {probe["top1"]:.2f} ({time.perf_counter() - start:.0f} s)',
                  flush=True)


if __name__ == '__main__':
    main()
