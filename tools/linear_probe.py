"""Fast linear probe of a frozen backbone: L-BFGS logistic regression on extracted features.

Usage:
    python tools/linear_probe.py CONFIG CHECKPOINT [--l2-grid 1e-6 ... 1e-1] [--holdout 0.2]
        [--max-iter 300] [--out FILE.json] [--batch-size N] [--num-workers N] [--device DEV]
        [--prefix P] [--cfg-options key=value ...]
    python tools/linear_probe.py CONFIG none ...  # a randomly initialised backbone

Features (last backbone stage, global-average pooled, L2-normalised; training images through
the validation pipeline) are extracted once; a multinomial logistic regression is solved with
L-BFGS on the device, its L2 strength chosen from the grid on a held-out part of the training
features and refitted on all of them. Prints and writes {"checkpoint", "config", "top1",
"top5", "l2", "holdout_top1", "num_train", "num_test", ...}; --out is written atomically and
only over an earlier result of this tool. Features with NaN or Inf values (a diverged
checkpoint) are refused, naming where they come from. The SGD configs of configs/mejigclu/benchmarks/ remain
the papers' full protocol.
"""
import argparse

import mejigclu_mm  # noqa: F401  (registrations)
from mejigclu_mm.cli.frozen_features import add_common_arguments, tool_features, write_json
from mejigclu_mm.evaluation import DEFAULT_L2_GRID, linear_probe


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    parser.add_argument('--l2-grid', type=float, nargs='+', default=list(DEFAULT_L2_GRID),
                        help='candidate L2 strengths (default: %(default)s)')
    parser.add_argument('--holdout', type=float, default=0.2,
                        help='fraction of the training features that scores the grid')
    parser.add_argument('--max-iter', type=int, default=300, help='L-BFGS iterations per fit')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    feats = tool_features(args, 'linear_probe.py')
    probe = linear_probe(feats['bank'], feats['bank_labels'], feats['query'],
                         feats['query_labels'], feats['num_classes'], args.l2_grid,
                         args.holdout, args.seed, args.max_iter)
    for l2, top1 in probe['holdout_top1'].items():
        print(f'l2={l2:g} held-out top-1 {top1:.2f}')
    print(f'top-1 {probe["top1"]:.2f} top-5 {probe["top5"]:.2f} (l2={probe["l2"]:g}, chosen on '
          f'{probe["num_holdout"]} held-out training images)')
    results = dict(checkpoint=feats['checkpoint'], config=args.config,
                   top1=round(probe['top1'], 4), top5=round(probe['top5'], 4), l2=probe['l2'],
                   holdout_top1={f'{k:g}': round(v, 4) for k, v in probe['holdout_top1'].items()},
                   num_train=len(feats['bank']), num_test=len(feats['query']),
                   num_fit=probe['num_fit'], num_holdout=probe['num_holdout'])
    if args.out:
        write_json(args.out, results)
    return results


if __name__ == '__main__':
    main()
