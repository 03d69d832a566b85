"""Weighted kNN accuracy of a frozen backbone on a classification config's data.

Usage:
    python tools/knn_eval.py CONFIG CHECKPOINT [--k 10 20 100 200] [--temperature 0.07]
        [--out FILE.json] [--batch-size N] [--num-workers N] [--device DEV] [--prefix P]
        [--cfg-options key=value ...]
    python tools/knn_eval.py CONFIG none ...     # a randomly initialised backbone

The bank is the training set through the validation pipeline, the queries the validation
set; features are the last backbone stage, global-average pooled and L2-normalised; each of
the k most similar bank images (cosine) votes for its label with weight exp(sim / T)
(mmselfsup's kNN benchmark, DINO's eval_knn). Prints one line per k and writes
{"checkpoint", "config", "knn": {k: top-1 %}, "k_used": {k: neighbours used}, "temperature",
"num_bank", "num_query"}. A k larger than the bank is computed with the whole bank: the line
says so (e.g. "k=200 top-1 61.00 (bank of 50 images: used k=50)") and "k_used" records it.
--out is written atomically and only over an earlier result of this tool.
"""
import argparse

import mejigclu_mm  # noqa: F401  (registrations)
from mejigclu_mm.cli.frozen_features import add_common_arguments, tool_features, write_json
from mejigclu_mm.evaluation import knn_accuracy
from mejigclu_mm.evaluation.knn import check_temperature, neighbourhood_sizes


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    parser.add_argument('--k', type=int, nargs='+', default=[10, 20, 100, 200],
                        help='neighbourhood sizes (default: 10 20 100 200)')
    parser.add_argument('--temperature', type=float, default=0.07,
                        help='vote weights exp(sim / T), T > 0 (default: 0.07)')
    args = parser.parse_args(argv)
    try:  # before any extraction
        args.temperature = check_temperature(args.temperature, '--temperature')
    except ValueError as error:
        parser.error(str(error))
    if min(args.k) < 1:
        parser.error(f'--k: every neighbourhood size must be >= 1, got {args.k}')
    return args


def main(argv=None):
    args = parse_args(argv)
    feats = tool_features(args, 'knn_eval.py')
    acc = knn_accuracy(feats['query'], feats['query_labels'], feats['bank'],
                       feats['bank_labels'], feats['num_classes'], args.k, args.temperature)
    used = neighbourhood_sizes(args.k, len(feats['bank']))
    for k, top1 in acc.items():
        clamped = f' (bank of {len(feats["bank"])} images: used k={used[k]})' \
            if used[k] != k else ''
        print(f'k={k} top-1 {top1:.2f}{clamped}')
    results = dict(checkpoint=feats['checkpoint'], config=args.config,
                   knn={str(k): round(v, 4) for k, v in acc.items()},
                   k_used={str(k): used[k] for k in acc},
                   temperature=args.temperature, num_bank=len(feats['bank']),
                   num_query=len(feats['query']))
    if args.out:
        write_json(args.out, results)
    return results


if __name__ == '__main__':
    main()
