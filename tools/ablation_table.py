"""Print the ablation table shaped like Table 4 of MEJigClu from pretraining work dirs.

Usage:
    python tools/ablation_table.py PRETRAIN_WORK_DIR [PRETRAIN_WORK_DIR ...]

For each pretraining run (e.g. of configs/pretrain/ablation/*.py) the losses it trained with and
its split overlap are read from the config dumped into the work dir; its downstream runs, kept in
subfolders (``det/``, ``linear/``, ...), give the metric columns (AP, AP50, AP75, top-1, ...).
"""
import argparse

from mejigclu_mm.utils.run_logs import downstream_metrics, pretraining_setup
from mejigclu_mm.utils.tables import (format_overlap, markdown_table, metric_columns,
                                      metric_header, metric_row)

LOSS_COLUMNS = [('loc', 'L_loc'), ('clu', 'L_clu'), ('cls', 'L_cls')]


def ablation_table(work_dirs):
    """Markdown table with one row per pretraining work dir."""
    runs = [(pretraining_setup(d), downstream_metrics(d)) for d in work_dirs]
    columns = metric_columns(tasks for _, tasks in runs)
    header = [title for _, title in LOSS_COLUMNS] + ['overlap'] + metric_header(columns)
    rows = []
    for setup, tasks in runs:
        marks = ['✓' if name in setup['heads'] else '' for name, _ in LOSS_COLUMNS]
        rows.append(marks + [format_overlap(setup['overlap'])] + metric_row(tasks, columns))
    return markdown_table(header, rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('work_dirs', nargs='+')
    args = parser.parse_args(argv)
    table = ablation_table(args.work_dirs)
    print(table)
    return table


if __name__ == '__main__':
    main()
