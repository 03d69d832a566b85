"""Markdown tables of downstream results, as the papers print them."""
from typing import Dict, List, Sequence

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
    """Formatted percentages for ``keys`` ('-' where a run has no such metric)."""
    return [f'{metrics[k] * METRIC_COLUMNS[k][1]:.1f}' if k in metrics else '-' for k in keys]


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table."""
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    lines += ['| ' + ' | '.join(str(c) for c in row) + ' |' for row in rows]
    return '\n'.join(lines)


def format_overlap(overlap) -> str:
    """'0.3', or 'random [0.15, 0.45]' for a range."""
    if isinstance(overlap, tuple):
        return f'random [{overlap[0]:g}, {overlap[1]:g}]'
    return '-' if overlap is None else f'{overlap:g}'
