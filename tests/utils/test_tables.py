"""The column helpers that tools/results_table.py and tools/ablation_table.py share."""
from mejigclu_mm.utils.tables import markdown_table, metric_columns, metric_header, metric_row

RUNS = [
    {'linear': {'accuracy/top1': 47.31}},
    {'det': {'coco/bbox_mAP': 0.012, 'coco/bbox_mAP_50': 0.05, 'loss': 1.0},
     'linear': {'accuracy/top1': 19.3, 'accuracy/top5': 70.0}},
]


def test_columns_in_first_seen_task_order_and_metric_order():
    columns = metric_columns(RUNS)
    assert columns == [('linear', 'accuracy/top1'), ('det', 'coco/bbox_mAP'),
                       ('det', 'coco/bbox_mAP_50'), ('linear', 'accuracy/top5')]
    assert metric_header(columns) == ['linear top-1', 'det AP', 'det AP50', 'linear top-5']


def test_rows_scale_to_percent_and_mark_what_a_run_lacks():
    columns = metric_columns(RUNS)
    assert metric_row(RUNS[0], columns) == ['47.3', '-', '-', '-']
    assert metric_row(RUNS[1], columns) == ['19.3', '1.2', '5.0', '70.0']
    assert metric_columns([{}, {'det': {'loss': 1.0}}]) == []
    assert markdown_table(['a', 'b'], [['1', '2']]) == '| a | b |\n|---|---|\n| 1 | 2 |'
