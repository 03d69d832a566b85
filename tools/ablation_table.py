"""Print the ablation table shaped like Table 4 of MEJigClu from pretraining work dirs.

Usage:
    python tools/ablation_table.py PRETRAIN_WORK_DIR [PRETRAIN_WORK_DIR ...] [--expect TASK ...]
        [--out ablation.md]

For each pretraining run (e.g. of configs/mejigclu/mejigclu-overlap0.3_*.py) the losses it trained with and
its split overlap are read from the config dumped into the work dir; its downstream results,
kept in subfolders (``det/``, ``seg/``, ``linear/``, ...) and in ``knn.json`` /
``linear_probe.json``, give the metric columns (AP, AP50, AP75, mIoU, top-1, ...). Missing
results are reported as tools/results_table.py does (``no result`` / ``no run`` and a note).
"""
import argparse

from mejigclu_mm.cli.run_logs import downstream_results, pretraining_setup
from mejigclu_mm.cli.tables import (add_table_options, format_overlap, markdown_table,
                                    metric_columns, metric_header, metric_row, missing_notes,
                                    print_and_write_table)

LOSS_COLUMNS = [('loc', 'L_loc'), ('clu', 'L_clu'), ('cls', 'L_cls')]


def ablation_table(work_dirs, expect=()):
    """Markdown table with one row per pretraining work dir, and notes on what is missing.

    Raises:
        ValueError: a work dir is no JigsawClustering pretraining run, or a result file cannot
            be read (named in the message).
    """
    runs = [(d, pretraining_setup(d), *downstream_results(d)) for d in work_dirs]
    columns = metric_columns([results for *_, results, _ in runs],
                             [[*problems, *expect] for *_, problems in runs])
    header = [title for _, title in LOSS_COLUMNS] + ['overlap'] + metric_header(columns)
    rows = []
    for _, setup, results, problems in runs:
        marks = ['✓' if name in setup['heads'] else '' for name, _ in LOSS_COLUMNS]
        rows.append(marks + [format_overlap(setup['overlap'])]
                    + metric_row(results, columns, problems))
    notes = missing_notes([(d, d, results, problems) for d, _, results, problems in runs],
                          columns)
    return markdown_table(header, rows) + ('\n\n' + '\n'.join(notes) if notes else '')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('work_dirs', nargs='+')
    add_table_options(parser)
    args = parser.parse_args(argv)
    return print_and_write_table('ablation_table',
                                 lambda: ablation_table(args.work_dirs, args.expect), args.out)


if __name__ == '__main__':
    main()
