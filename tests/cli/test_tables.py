"""The column helpers that tools/results_table.py and tools/ablation_table.py share."""
from mejigclu_mm.cli.tables import (NO_RESULT, NO_RUN, markdown_table, metric_columns,
                                    metric_header, metric_row, missing_notes)

RUNS = [
    {'linear': {'accuracy/top1': 47.31}},
    {'det': {'coco/bbox_mAP': 0.012, 'coco/bbox_mAP_50': 0.05, 'loss': 1.0},
     'linear': {'accuracy/top1': 19.3, 'accuracy/top5': 70.0},
     'seg': {'mIoU': 41.26, 'aAcc': 90.0, 'mAcc': 50.04}},
]


def test_columns_grouped_by_task_frozen_features_first_then_by_name():
    columns = metric_columns(RUNS + [{'probe': {'accuracy/top1': 1.0}}])
    assert columns == [('probe', 'accuracy/top1'), ('det', 'coco/bbox_mAP'),
                       ('det', 'coco/bbox_mAP_50'), ('linear', 'accuracy/top1'),
                       ('linear', 'accuracy/top5'), ('seg', 'mIoU'), ('seg', 'mAcc'),
                       ('seg', 'aAcc')]
    assert metric_header(columns) == ['probe top-1', 'det AP', 'det AP50', 'linear top-1',
                                      'linear top-5', 'seg mIoU', 'seg mAcc', 'seg allAcc']
    # the order does not depend on which row ran (or crashed) first
    assert metric_columns(RUNS[::-1]) == metric_columns(RUNS) == columns[1:]


def test_rows_scale_to_percent_and_mark_what_a_run_lacks():
    columns = metric_columns(RUNS)
    # no det / seg run in the first row; its linear run has no top-5
    assert metric_row(RUNS[0], columns) == [NO_RUN, NO_RUN, '47.3', '-', NO_RUN, NO_RUN, NO_RUN]
    assert metric_row(RUNS[0], columns, failed=['det']) == [
        NO_RESULT, NO_RESULT, '47.3', '-', NO_RUN, NO_RUN, NO_RUN]
    assert metric_row(RUNS[1], columns) == ['1.2', '5.0', '19.3', '70.0', '41.3', '50.0', '90.0']
    assert metric_columns([{}, {'det': {'loss': 1.0}}]) == []
    assert markdown_table(['a', 'b'], [['1', '2']]) == '| a | b |\n|---|---|\n| 1 | 2 |'


def test_a_task_without_any_result_keeps_one_column():
    columns = metric_columns(RUNS, failed=[['seg', 'trees'], []])
    assert columns[-1] == ('trees', None) and metric_header(columns)[-1] == 'trees'
    assert metric_row(RUNS[0], columns, failed=['trees'])[-1] == NO_RESULT
    assert metric_row(RUNS[1], columns)[-1] == NO_RUN


def test_notes_name_each_missing_cell():
    columns = metric_columns(RUNS, failed=[['trees'], []])
    rows = [('A', 'runs/a', RUNS[0], {'trees': 'runs/a/trees: its newest run logged nothing'}),
            ('B', 'runs/b', RUNS[1], {})]
    assert missing_notes(rows, columns) == [
        '- A / det: no run: nothing for it in runs/a',
        '- A / seg: no run: nothing for it in runs/a',
        '- A / trees: runs/a/trees: its newest run logged nothing',
        '- B / trees: no run: nothing for it in runs/b']
