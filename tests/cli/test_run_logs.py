"""What a work dir says about a run's results: a detector that made no detection evaluated
and has AP 0 (mmdet's CocoMetric logs an error and no metric)."""
import json
from pathlib import Path

import pytest

from mejigclu_mm.cli.run_logs import downstream_results, final_metrics

EMPTY_DETECTIONS = 'The testing results of the whole dataset is empty.'  # mmdet 3.3.0's words

# The lines mmdet 3.3.0 writes for an evaluation without a single detection (from a real run:
# tests/tools/test_result_tables.py::test_a_detector_without_detections_has_ap_0)
EMPTY_EVALUATION = ('2026/12/07 06:33:11 - mmengine - INFO - Evaluating bbox...\n'
                    '2026/12/07 06:33:11 - mmengine - ERROR - .../coco_metric.py - '
                    f'compute_metrics - 465 - {EMPTY_DETECTIONS}\n'
                    '2026/12/07 06:33:11 - mmengine - INFO - Epoch(val) [{epoch}][1/1]    '
                    'data_time: 0.0028  time: 0.2347\n')
AP = {'coco/bbox_mAP': 0.125, 'coco/bbox_mAP_50': 0.25, 'coco/bbox_mAP_75': 0.0625}


def detection_run(work_dir, evaluations):
    """A run folder whose evaluations either found detections (their AP) or none (None)."""
    folder = Path(work_dir) / '20260101_000000'
    (folder / 'vis_data').mkdir(parents=True)
    log, records = [], []
    for epoch, ap in enumerate(evaluations, 1):
        records.append({'loss': 1.0, 'epoch': epoch, 'iter': epoch, 'step': epoch})
        if ap is None:
            log.append(EMPTY_EVALUATION.format(epoch=epoch))
            records.append({'data_time': 0.0028, 'time': 0.2347, 'step': epoch})
        else:
            log.append('2026/12/07 06:33:11 - mmengine - INFO - Evaluating bbox...\n')
            records.append(dict(ap, data_time=0.0028, time=0.2347, step=epoch))
    (folder / f'{folder.name}.log').write_text(''.join(log))
    (folder / 'vis_data' / 'scalars.json').write_text(
        ''.join(json.dumps(record) + '\n' for record in records))
    return work_dir


@pytest.mark.parametrize('evaluations, expected', [
    ([None], 0.0),
    ([AP, None], 0.0),  # the last evaluation counts
    ([None, AP], AP['coco/bbox_mAP']),
])
def test_an_evaluation_without_detections_has_ap_0(tmp_path, evaluations, expected):
    metrics = final_metrics(str(detection_run(tmp_path / 'det', evaluations)))
    assert metrics['coco/bbox_mAP'] == expected
    assert set(metrics) == set(AP)
    results, problems = downstream_results(str(tmp_path))
    assert results == {'det': metrics} and problems == {}


def test_a_custom_prefix_of_the_dumped_config_is_used(tmp_path):
    work_dir = detection_run(tmp_path / 'det', [None])
    (work_dir / 'det.py').write_text("val_evaluator = dict(type='CocoMetric', prefix='trees')\n")
    assert final_metrics(str(work_dir)) == {'trees/bbox_mAP': 0.0, 'trees/bbox_mAP_50': 0.0,
                                            'trees/bbox_mAP_75': 0.0}
