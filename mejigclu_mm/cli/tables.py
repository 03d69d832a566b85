"""Markdown tables of downstream results, as the papers print them."""
import argparse
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from mejigclu_mm.cli.run_logs import FROZEN_FEATURE_TASKS

# metric key in mmengine's logs -> (column name, scale to percent)
METRIC_COLUMNS = {
    'accuracy/top1': ('top-1', 1.0),
    'accuracy/top5': ('top-5', 1.0),
    'coco/bbox_mAP': ('AP', 100.0),
    'coco/bbox_mAP_50': ('AP50', 100.0),
    'coco/bbox_mAP_75': ('AP75', 100.0),
    # VOCMetric(iou_thrs=[0.5, 0.55, ..., 0.95]): 'mAP' is the mean over the thresholds
    # (run_logs drops it for a single threshold)
    'pascal_voc/mAP': ('AP', 100.0),
    'pascal_voc/AP50': ('AP50', 100.0),
    'pascal_voc/AP75': ('AP75', 100.0),
    # mmseg's IoUMetric, in percent already (the supplementary's mIoU / mAcc / allAcc)
    'mIoU': ('mIoU', 1.0),
    'mAcc': ('mAcc', 1.0),
    'aAcc': ('allAcc', 1.0),
}
# Cells of a row without the task's metrics: its run logged no evaluation / there is no run
NO_RESULT, NO_RUN = 'no result', 'no run'


def metric_cells(metrics: Dict[str, float], keys: Sequence[str]) -> List[str]:
    """Formatted percentages for ``keys`` ('-' where a run has no such metric).

    Args:
        metrics (dict): Metric key -> value, as mmengine logs it.
        keys (list[str]): Keys of :data:`METRIC_COLUMNS`.
    """
    return [f'{metrics[k] * METRIC_COLUMNS[k][1]:.1f}' if k in metrics else '-' for k in keys]


def metric_columns(runs: Iterable[Dict[str, Dict[str, float]]],
                   failed: Iterable[Iterable[str]] = ()) -> List[Tuple[str, Optional[str]]]:
    """The (task, metric key) columns that any run has, grouped by task.

    Tasks come in one order whatever ran or crashed: the frozen-feature results first (kNN,
    probe), then the fine-tuning tasks by name (``det``, ``linear``, ``seg``, ...); metrics in
    :data:`METRIC_COLUMNS` order. A task that only failed runs have gets one column
    ``(task, None)``, so that its failures show instead of vanishing.

    Args:
        runs: One dict per row: task (e.g. 'linear', 'det') -> that run's metrics.
        failed: One collection per row: the tasks whose runs logged no evaluation.
    """
    runs, failed = list(runs), [list(tasks) for tasks in failed]
    tasks = {task for row in runs for task in row} | {task for row in failed for task in row}
    leading = list(FROZEN_FEATURE_TASKS)
    order = sorted(tasks, key=lambda t: (leading.index(t) if t in leading else len(leading), t))
    columns: List[Tuple[str, Optional[str]]] = []
    for task in order:
        logged = {key for row in runs for key in row.get(task, {})}
        keys = [key for key in METRIC_COLUMNS if key in logged]
        if keys:
            columns += [(task, key) for key in keys]
        elif any(task in row for row in failed):
            columns.append((task, None))
    return columns


def metric_header(columns: Sequence[Tuple[str, Optional[str]]]) -> List[str]:
    """Column titles such as 'det AP' and 'linear top-1' ('seg' for ``('seg', None)``).

    Args:
        columns (list[tuple]): As :func:`metric_columns` returns them.
    """
    return [task if key is None else f'{task} {METRIC_COLUMNS[key][0]}'
            for task, key in columns]


def metric_row(tasks: Dict[str, Dict[str, float]],
               columns: Sequence[Tuple[str, Optional[str]]],
               failed: Iterable[str] = ()) -> List[str]:
    """One row's cells for ``columns``: the metric in percent, '-' where the task's run has no
    such metric, :data:`NO_RESULT` where its run logged no evaluation, :data:`NO_RUN` where the
    row has no run of the task.

    Args:
        tasks (dict): Task -> metrics of one row.
        columns (list[tuple]): As :func:`metric_columns` returns them.
        failed: The row's tasks whose runs logged no evaluation.
    """
    failed = set(failed)
    cells = []
    for task, key in columns:
        if task in tasks:
            cells.append('-' if key is None else metric_cells(tasks[task], [key])[0])
        else:
            cells.append(NO_RESULT if task in failed else NO_RUN)
    return cells


def missing_notes(rows: Sequence[Tuple[str, str, Dict[str, dict], Dict[str, str]]],
                  columns: Sequence[Tuple[str, Optional[str]]]) -> List[str]:
    """Notes for the cells without results, one per row and task: ``- NAME / TASK: why``.

    Args:
        rows (list[tuple]): (row name, its folder, task -> metrics, task -> why it has none).
        columns (list[tuple]): As :func:`metric_columns` returns them.
    """
    notes = []
    tasks = list(dict.fromkeys(task for task, _ in columns))
    for name, folder, results, problems in rows:
        for task in tasks:
            if task in problems:
                notes.append(f'- {name} / {task}: {problems[task]}')
            elif task not in results:
                notes.append(f'- {name} / {task}: {NO_RUN}: nothing for it in {folder}')
    return notes


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table.

    Args:
        header (list[str]): Column titles.
        rows (list[list]): Cells, one list per row.
    """
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    lines += ['| ' + ' | '.join(str(c) for c in row) + ' |' for row in rows]
    return '\n'.join(lines)


def format_overlap(overlap) -> str:
    """'0.3', or 'random [0.15, 0.45]' for a range.

    Args:
        overlap (float | tuple | None): A split overlap or its (low, high) range.
    """
    if isinstance(overlap, tuple):
        return f'random [{overlap[0]:g}, {overlap[1]:g}]'
    return '-' if overlap is None else f'{overlap:g}'


def add_table_options(parser: argparse.ArgumentParser) -> None:
    """``--expect TASK ...`` and ``--out FILE.md``, as tools/results_table.py and
    tools/ablation_table.py take them.

    Args:
        parser (argparse.ArgumentParser): The tool's parser.
    """
    parser.add_argument('--expect', nargs='+', default=[], metavar='TASK',
                        help='tasks every row should have (e.g. det seg): a missing one shows '
                        'as "no run" even where no row has it')
    parser.add_argument('--out', help='also write the table to this Markdown (.md) file')


def print_and_write_table(tool: str, make_table: Callable[[], str],
                          out: Optional[str]) -> str:
    """Make the table, print it and write it atomically to ``out`` (a ``.md`` file), marked as
    this tool's.

    Args:
        tool (str): The tool's name, for the messages.
        make_table (callable): Returns the table; may raise ValueError / FileNotFoundError
            naming an unreadable result file.
        out (str, optional): Where to write it too.

    Raises:
        SystemExit: ``out`` is not a ``.md`` file or a file this tool may not write over
            (:func:`~mejigclu_mm.runtime.output_guard.check_output`, before any work), or
            ``make_table`` raised (its message).
    """
    from mejigclu_mm.runtime.output_guard import check_output, write_output
    writer = f'tools/{tool}.py'
    if out:
        check_output(out, writer, ('.md', ))
    try:
        table = make_table()
    except (ValueError, FileNotFoundError) as error:
        raise SystemExit(f'{tool}: {error}') from None
    print(table)
    if out:
        write_output(out, table + '\n', writer)
    return table
