"""Read what tools/train.py leaves in a work dir: logged scalars and the dumped config."""
import glob
import json
import os.path as osp
import re
from typing import Dict, List, Optional, Tuple

from mmengine.config import Config

# Evaluation metrics that their library logs without a 'prefix/' (mmseg's IoUMetric)
UNPREFIXED_METRICS = ('mIoU', 'mAcc', 'aAcc')
# What mmdet's CocoMetric logs, instead of any metric, when the detector made no detection at
# all: its AP is 0 (what COCO's evaluation gives a detector without detections).
EMPTY_DETECTIONS = 'The testing results of the whole dataset is empty.'
ZERO_AP_METRICS = ('mAP', 'mAP_50', 'mAP_75')


def run_folders(work_dir: str) -> List[str]:
    """The runs of tools/train.py in ``work_dir``, oldest first: mmengine's ``<timestamp>/``
    folders, each holding ``<timestamp>.log`` (and ``vis_data/scalars.json`` once something
    was logged)."""
    return sorted(osp.dirname(path) for path in glob.glob(osp.join(work_dir, '*', '*.log'))
                  if re.fullmatch(r'\d{8}_\d{6}', osp.basename(osp.dirname(path)))
                  and osp.basename(path) == osp.basename(osp.dirname(path)) + '.log')


def _newest_run_file(work_dir: str, pattern: str) -> Optional[str]:
    files = sorted(glob.glob(osp.join(work_dir, '*', pattern)))
    return files[-1] if files else None


def is_work_dir(path: str) -> bool:
    """Whether ``path`` holds a run of tools/train.py (a ``<timestamp>/<timestamp>.log`` or a
    ``*/vis_data/scalars.json``), finished or not."""
    return bool(run_folders(path)) or _newest_run_file(
        path, osp.join('vis_data', 'scalars.json')) is not None


def _read_scalars_file(path: str) -> List[dict]:
    records = []
    with open(path) as file:
        for number, line in enumerate(file, 1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as error:
                    raise ValueError(f'{path}, line {number}: not a JSON record of mmengine\'s '
                                     f'LocalVisBackend ({error})') from None
    return records


def read_scalars(work_dir: str) -> List[dict]:
    """Records of the newest run in ``work_dir`` (``<timestamp>/vis_data/scalars.json``).

    Args:
        work_dir (str): A work dir given to tools/train.py.

    Returns:
        list[dict]: One dict per logged step, e.g. ``{'loss': 29.1, 'iter': 10, ...}``.

    Raises:
        FileNotFoundError: no scalars.json below ``work_dir``.
        ValueError: a line of it is no JSON record (the file is named).
    """
    path = _newest_run_file(work_dir, osp.join('vis_data', 'scalars.json'))
    if path is None:
        raise FileNotFoundError(f'no */vis_data/scalars.json in {work_dir}: is it a work dir of '
                                'tools/train.py with the LocalVisBackend?')
    return _read_scalars_file(path)


def loss_series(work_dir: str) -> Dict[str, Tuple[List[int], List[float]]]:
    """Every ``loss*`` scalar of the training records: key -> (iterations, values)."""
    series: Dict[str, Tuple[List[int], List[float]]] = {}
    for record in read_scalars(work_dir):
        for key, value in record.items():
            if key.startswith('loss') and 'iter' in record:
                steps, values = series.setdefault(key, ([], []))
                steps.append(int(record['iter']))
                values.append(float(value))
    return series


def is_metric_key(key: str) -> bool:
    """Whether a logged scalar is an evaluation metric: ``prefix/name`` (``accuracy/top1``,
    ``coco/bbox_mAP``, ``pascal_voc/AP50``) or one of :data:`UNPREFIXED_METRICS`."""
    return '/' in key or key in UNPREFIXED_METRICS


def _metrics_of(records: List[dict]) -> Dict[str, float]:
    metrics: Dict[str, float] = {}
    for record in records:
        metrics.update({k: float(v) for k, v in record.items() if is_metric_key(k)})
    # VOCMetric's 'mAP' is the mean over its IoU thresholds: with one threshold it is that
    # threshold's AP (also logged as e.g. 'AP50'), not the AP over 0.5:0.95.
    thresholds = [k for k in metrics if re.fullmatch(r'pascal_voc/AP\d\d', k)]
    if 'pascal_voc/mAP' in metrics and len(thresholds) < 2:
        del metrics['pascal_voc/mAP']
    return metrics


def _empty_detection_evaluations(run_folder: str) -> List[str]:
    """The COCO metric (``bbox``, ``segm``) of every evaluation in a run's log that found no
    detection at all (:data:`EMPTY_DETECTIONS`), in the order of the log."""
    log = osp.join(run_folder, osp.basename(run_folder) + '.log')
    if not osp.isfile(log):
        return []
    found, metric = [], 'bbox'
    with open(log, errors='replace') as file:
        for line in file:
            evaluating = re.search(r'Evaluating (\w+)\.\.\.', line)
            if evaluating:
                metric = evaluating.group(1)
            elif EMPTY_DETECTIONS in line:
                found.append(metric)
    return found


def _coco_prefix(work_dir: str) -> str:
    """The ``prefix`` of the CocoMetric in the config dumped into ``work_dir`` ('coco', its
    default, when there is none or it cannot be read)."""
    configs = glob.glob(osp.join(work_dir, '*.py'))
    try:
        cfg = Config.fromfile(max(configs, key=osp.getmtime)) if configs else {}
    except Exception:  # a config that no longer loads: the default prefix
        return 'coco'
    evaluators = cfg.get('val_evaluator') or []
    for evaluator in evaluators if isinstance(evaluators, list) else [evaluators]:
        if str(evaluator.get('type', '')).endswith('CocoMetric') and evaluator.get('prefix'):
            return evaluator['prefix']
    return 'coco'


def _with_empty_detections(records: List[dict], empty: List[str], prefix: str) -> List[dict]:
    """``records`` with AP 0 in the evaluation records that CocoMetric left without metrics
    because the detector made no detection (the last ``len(empty)`` such records, in order)."""
    records = [dict(record) for record in records]
    bare = [record for record in records
            if 'iter' not in record and not any(is_metric_key(key) for key in record)]
    both = min(len(bare), len(empty))
    for record, metric in zip(bare[len(bare) - both:], empty[len(empty) - both:]):
        record.update({f'{prefix}/{metric}_{name}': 0.0 for name in ZERO_AP_METRICS})
    return records


def final_metrics(work_dir: str) -> Dict[str, float]:
    """The last logged value of every evaluation metric of the newest run in ``work_dir``
    (keys like ``accuracy/top1``, ``coco/bbox_mAP``, ``pascal_voc/AP75``, ``mIoU``); empty when
    that run logged none (it stopped before evaluating).

    A detector that made no detection gets no metric from mmdet's CocoMetric (it logs
    :data:`EMPTY_DETECTIONS` instead); such an evaluation gives AP, AP50 and AP75 of 0.
    """
    path = _newest_run_file(work_dir, osp.join('vis_data', 'scalars.json'))
    newest = run_folders(work_dir)
    if path is None or (newest and osp.dirname(osp.dirname(path)) != newest[-1]):
        return {}  # the newest run logged nothing
    records = _read_scalars_file(path)
    empty = _empty_detection_evaluations(osp.dirname(osp.dirname(path)))
    if empty:
        records = _with_empty_detections(records, empty, _coco_prefix(work_dir))
    return _metrics_of(records)


def missing_result(work_dir: str) -> str:
    """Why the newest run in ``work_dir`` has no evaluation metrics, for a table's notes."""
    runs = run_folders(work_dir)
    if not runs:
        return f'{work_dir}: no evaluation logged'
    newest = runs[-1]
    text = (f'{work_dir}: its newest run logged no evaluation (it stopped before evaluating, '
            f'or was cut short): see {osp.join(newest, osp.basename(newest) + ".log")}')
    for older in reversed(runs[:-1]):
        scalars = osp.join(older, 'vis_data', 'scalars.json')
        if osp.isfile(scalars) and _metrics_of(_read_scalars_file(scalars)):
            text += f'; an older run ({osp.basename(older)}) has results, not shown'
            break
    return text


def pretraining_setup(work_dir: str) -> dict:
    """Heads, loss weights and split overlap of a JigClu / MEJigClu pretraining run.

    Read from the config that tools/train.py dumps into the work dir.

    Returns:
        dict: ``heads`` (name -> loss weight, e.g. {'clu': 1.0, 'loc': 1.0}) and ``overlap``
        (a float, or a (low, high) pair for a random overlap).

    Raises:
        FileNotFoundError: no dumped config; ValueError: not a JigsawClustering run.
    """
    configs = glob.glob(osp.join(work_dir, '*.py'))
    if not configs:
        raise FileNotFoundError(f'no dumped config (*.py) in {work_dir}')
    cfg = Config.fromfile(max(configs, key=osp.getmtime))
    if cfg.model.get('type') != 'JigsawClustering':
        raise ValueError(f'{work_dir} is no JigsawClustering pretraining run '
                         f'(model type {cfg.model.get("type")})')
    split = [t for t in cfg.train_dataloader.dataset.pipeline if t.type == 'JigsawSplit']
    overlap = split[0].get('overlap', 0.3) if split else None
    return dict(heads={name: float(head.get('loss_weight', 1.0))
                       for name, head in cfg.model.heads.items()},
                overlap=tuple(overlap) if isinstance(overlap, (list, tuple)) else overlap)


# JSON results of tools/knn_eval.py and tools/linear_probe.py kept in a work dir (the demo's
# names) -> (task name in tables, {metric key in the tables: how to read it from the JSON})
FROZEN_FEATURE_RESULTS = {
    'knn.json': ('kNN k=20', {'accuracy/top1': lambda r: r['knn']['20']}),
    'linear_probe.json': ('probe', {'accuracy/top1': lambda r: r['top1'],
                                    'accuracy/top5': lambda r: r['top5']}),
}
# Their task names, in table order
FROZEN_FEATURE_TASKS = tuple(task for task, _ in FROZEN_FEATURE_RESULTS.values())


def frozen_feature_metrics(work_dir: str) -> Dict[str, Dict[str, float]]:
    """The kNN / linear-probe results kept in ``work_dir`` (see FROZEN_FEATURE_RESULTS).

    Returns:
        dict: task (e.g. 'kNN k=20', 'probe') -> metrics, for the files that exist.

    Raises:
        ValueError: a file that is empty, no JSON, or another tool's result (named).
    """
    found = {}
    for name, (task, readers) in FROZEN_FEATURE_RESULTS.items():
        path = osp.join(work_dir, name)
        if osp.isfile(path):
            with open(path) as file:
                try:
                    results = json.load(file)
                except json.JSONDecodeError as error:
                    raise ValueError(f'{path}: not a JSON file ({error}); written by a run that '
                                     f'was cut short? Run its tool again') from None
            try:
                found[task] = {key: float(read(results)) for key, read in readers.items()}
            except (KeyError, TypeError, AttributeError, ValueError) as error:
                raise ValueError(f'{path}: not a result of the tool that writes {name} '
                                 f'({type(error).__name__}: {error})') from None
    return found


def downstream_results(work_dir: str
                       ) -> Tuple[Dict[str, Dict[str, float]], Dict[str, str]]:
    """Final metrics of the downstream evaluations of one initialisation, and what is missing.

    The convention of tools/demo.sh: a pretraining work dir holds its transfer runs in
    subfolders, e.g. ``det/``, ``seg/``, each a work dir of tools/train.py, and the
    frozen-feature results ``knn.json`` / ``linear_probe.json`` (:func:`frozen_feature_metrics`).

    Returns:
        tuple: (results, problems): task (subfolder name, or 'kNN k=20' / 'probe') -> its final
        metrics, for the tasks that have some; task -> why it has none, for subfolders whose
        newest run logged no evaluation (crashed, cut short).

    Raises:
        ValueError: a result file cannot be read (the file is named).
    """
    found, problems = frozen_feature_metrics(work_dir), {}
    for sub in sorted(glob.glob(osp.join(work_dir, '*', ''))):
        sub = osp.normpath(sub)
        if is_work_dir(sub):
            metrics = final_metrics(sub)
            if metrics:
                found[osp.basename(sub)] = metrics
            else:
                problems[osp.basename(sub)] = missing_result(sub)
    return found, problems


def scalar_series(work_dir: str, prefix: str) -> Dict[str, Tuple[List[int], List[float]]]:
    """Every scalar whose key starts with ``prefix`` (e.g. ``'knn/'``, ``'accuracy/'``).

    Args:
        work_dir (str): A work dir given to tools/train.py.
        prefix (str): Key prefix.

    Returns:
        dict: key -> (steps, values); the step is the record's ``step``, which mmengine sets to
        the epoch for metrics of epoch-based runs (validation, ``KNNMonitorHook``) and to the
        iteration otherwise.
    """
    series: Dict[str, Tuple[List[int], List[float]]] = {}
    for record in read_scalars(work_dir):
        for key, value in record.items():
            if key.startswith(prefix) and 'step' in record:
                steps, values = series.setdefault(key, ([], []))
                steps.append(int(record['step']))
                values.append(float(value))
    return series
