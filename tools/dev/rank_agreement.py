"""Which columns of a comparison rank the backbones as the linear probe does.

Usage:
    python tools/dev/rank_agreement.py WORK_DIR/results.json [--reference probe]

Over every run of the comparison (arm x seed), and over the pretrained runs alone (the
baseline's left out), Spearman's rank correlation of each metric with the reference metric
(scipy.stats.spearmanr), and over the seeds the share of seeds on which the metric orders each
pair of arms as the reference does. The figures behind docs/transfer.md's *Which columns agree
with the linear probe*.
"""
import argparse
import itertools
import json

from scipy.stats import spearmanr


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('results', help="tools/compare.py's results.json")
    parser.add_argument('--reference', default='probe', help='the metric to agree with')
    parser.add_argument('--baseline', default='random init', help='the untrained arm')
    args = parser.parse_args(argv)
    with open(args.results) as file:
        values = json.load(file)['values']
    if args.reference not in values:
        raise SystemExit(f'{args.results}: no metric {args.reference!r} ({list(values)})')
    reference = values[args.reference]
    arms = list(reference)
    for metric, by_arm in values.items():
        if metric == args.reference:
            continue
        flat = [(by_arm[a][s], reference[a][s]) for a in arms for s in range(len(reference[a]))]
        pretrained = [(by_arm[a][s], reference[a][s]) for a in arms if a != args.baseline
                      for s in range(len(reference[a]))]
        rho_all = spearmanr(*zip(*flat)).statistic
        rho_pre = spearmanr(*zip(*pretrained)).statistic if len(pretrained) > 2 else float('nan')
        agree, pairs = 0, 0
        for a, b in itertools.combinations(arms, 2):
            for s in range(len(reference[a])):
                pairs += 1
                agree += ((by_arm[a][s] - by_arm[b][s]) * (reference[a][s] - reference[b][s])) > 0
        print(f'{metric:>16}: Spearman with {args.reference} over all runs {rho_all:+.2f}, '
              f'pretrained runs {rho_pre:+.2f}; same order of arm pairs on {agree}/{pairs} '
              'seed-pairs')


if __name__ == '__main__':
    main()
