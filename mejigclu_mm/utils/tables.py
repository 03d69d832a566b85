"""Markdown tables of downstream results, as the papers print them."""
from typing import Dict, Iterable, List, Sequence, Tuple

# metric key in mmengine's logs -> (column name, scale to percent)
METRIC_COLUMNS = {
    'accuracy/top1': ('top-1', 1.0),
    'accuracy/top5': ('top-5', 1.0),
    'coco/bbox_mAP': ('AP', 100.0),
    'coco/bbox_mAP_50': ('AP50', 100.0),
    'coco/bbox_mAP_75': ('AP75', 100.0),
    'pascal_voc/mAP': ('VOC AP50', 100.0),
}


def metric_cells(metrics: Dict[str, float], keys: Sequence[str]) -> List[str]:
    """Formatted percentages for ``keys`` ('-' where a run has no such metric).

    Args:
        metrics (dict): Metric key -> value, as mmengine logs it.
        keys (list[str]): Keys of :data:`METRIC_COLUMNS`.
    """
    return [f'{metrics[k] * METRIC_COLUMNS[k][1]:.1f}' if k in metrics else '-' for k in keys]


def metric_columns(runs: Iterable[Dict[str, Dict[str, float]]]) -> List[Tuple[str, str]]:
    """The (task, metric key) columns that any run has, tasks in first-seen order and metrics
    in :data:`METRIC_COLUMNS` order.

    Args:
        runs: One dict per row: task (e.g. 'linear', 'det') -> that run's metrics.
    """
    columns: List[Tuple[str, str]] = []
    for tasks in runs:
        for task, metrics in tasks.items():
            columns += [(task, k) for k in METRIC_COLUMNS
                        if k in metrics and (task, k) not in columns]
    return columns


def metric_header(columns: Sequence[Tuple[str, str]]) -> List[str]:
    """Column titles such as 'det AP' and 'linear top-1'.

    Args:
        columns (list[tuple]): As :func:`metric_columns` returns them.
    """
    return [f'{task} {METRIC_COLUMNS[key][0]}' for task, key in columns]


def metric_row(tasks: Dict[str, Dict[str, float]],
               columns: Sequence[Tuple[str, str]]) -> List[str]:
    """One row's cells for ``columns`` ('-' where the run has no such task or metric).

    Args:
        tasks (dict): Task -> metrics of one row.
        columns (list[tuple]): As :func:`metric_columns` returns them.
    """
    return [metric_cells(tasks.get(task, {}), [key])[0] for task, key in columns]


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
