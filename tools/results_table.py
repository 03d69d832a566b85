"""Print (and optionally write) the Markdown table of downstream results, one row per
initialisation.

Usage:
    python tools/results_table.py NAME=DIR [NAME=DIR ...] [--expect TASK ...] [--out results.md]

Each DIR holds the downstream evaluations of one initialisation, as tools/demo.sh writes them:
fine-tuning runs in subfolders (e.g. ``det/``, ``seg/``, ``linear/``), whose last evaluation
metrics fill columns such as ``det AP`` and ``seg mIoU``, and the JSON results of
tools/knn_eval.py (``knn.json``: column ``kNN k=20 top-1``) and tools/linear_probe.py
(``linear_probe.json``: ``probe top-1 / top-5``).

Nothing is dropped without a word: a run whose newest attempt logged no evaluation (it crashed
or was cut short) shows ``no result``, a row without a run that other rows (or ``--expect``)
have shows ``no run``, and a note under the table names the folder and log to look at. A result
file that cannot be read stops the tool with its name. ``--out`` is written atomically.
"""
import argparse
import os.path as osp

from mejigclu_mm.cli.run_logs import downstream_results
from mejigclu_mm.cli.tables import (add_table_options, markdown_table, metric_columns,
                                    metric_header, metric_row, missing_notes, print_and_write_table)


def results_table(named_dirs, expect=()):
    """Markdown table, and notes on what is missing, for ``[(name, dir), ...]``.

    Args:
        named_dirs (list[tuple]): (row name, directory) pairs.
        expect (list[str]): Tasks every row should have (e.g. 'det', 'seg'), reported where
            missing even when no row has them.

    Raises:
        ValueError: a result file cannot be read (named in the message).
    """
    rows = [(name, path, *downstream_results(path)) for name, path in named_dirs]
    columns = metric_columns([results for *_, results, _ in rows],
                             [[*problems, *expect] for *_, problems in rows])
    if not columns:
        raise SystemExit('results_table: no downstream metrics found in '
                         + ', '.join(path for _, path in named_dirs))
    header = ['initialisation'] + metric_header(columns)
    cells = [[name] + metric_row(results, columns, problems)
             for name, _, results, problems in rows]
    notes = missing_notes(rows, columns)
    return markdown_table(header, cells) + ('\n\n' + '\n'.join(notes) if notes else '')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('runs', nargs='+', metavar='NAME=DIR')
    add_table_options(parser)
    args = parser.parse_args(argv)
    named = []
    for item in args.runs:
        name, sep, path = item.partition('=')
        if not sep or not osp.isdir(path):
            parser.error(f'{item!r}: expected NAME=DIR with an existing DIR')
        named.append((name, path))
    return print_and_write_table('results_table', lambda: results_table(named, args.expect),
                                 args.out)


if __name__ == '__main__':
    main()
