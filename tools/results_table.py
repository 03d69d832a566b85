"""Print (and optionally write) the Markdown table of downstream results, one row per
initialisation.

Usage:
    python tools/results_table.py NAME=DIR [NAME=DIR ...] [--out results.md]

Each DIR holds the downstream evaluations of one initialisation, as tools/demo.sh writes them:
fine-tuning runs in subfolders (e.g. ``det/``, ``linear/``), whose last evaluation metrics fill
columns such as ``det AP``, and the JSON results of tools/knn_eval.py (``knn.json``: column
``kNN k=20 top-1``) and tools/linear_probe.py (``linear_probe.json``: ``probe top-1 / top-5``).
"""
import argparse
import os
import os.path as osp

from mejigclu_mm.utils.run_logs import downstream_metrics
from mejigclu_mm.utils.tables import markdown_table, metric_columns, metric_header, metric_row


def results_table(named_dirs):
    """Markdown table for ``[(name, dir), ...]``."""
    runs = [(name, downstream_metrics(path)) for name, path in named_dirs]
    columns = metric_columns(tasks for _, tasks in runs)
    if not columns:
        raise SystemExit('results_table: no downstream metrics found in '
                         + ', '.join(path for _, path in named_dirs))
    header = ['initialisation'] + metric_header(columns)
    rows = [[name] + metric_row(tasks, columns) for name, tasks in runs]
    return markdown_table(header, rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('runs', nargs='+', metavar='NAME=DIR')
    parser.add_argument('--out', help='also write the table to this file')
    args = parser.parse_args(argv)
    named = []
    for item in args.runs:
        name, sep, path = item.partition('=')
        if not sep or not osp.isdir(path):
            parser.error(f'{item!r}: expected NAME=DIR with an existing DIR')
        named.append((name, path))
    table = results_table(named)
    print(table)
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as file:
            file.write(table + '\n')
    return table


if __name__ == '__main__':
    main()
