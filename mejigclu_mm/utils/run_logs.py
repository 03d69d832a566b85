"""Read what tools/train.py leaves in a work dir: logged scalars and the dumped config."""
import glob
import json
import os.path as osp
from typing import Dict, List, Optional, Tuple

from mmengine.config import Config


def _newest_run_file(work_dir: str, pattern: str) -> Optional[str]:
    files = sorted(glob.glob(osp.join(work_dir, '*', pattern)))
    return files[-1] if files else None


def is_work_dir(path: str) -> bool:
    """Whether ``path`` holds a run of tools/train.py (a ``*/vis_data/scalars.json``)."""
    return _newest_run_file(path, osp.join('vis_data', 'scalars.json')) is not None


def read_scalars(work_dir: str) -> List[dict]:
    """Records of the newest run in ``work_dir`` (``<timestamp>/vis_data/scalars.json``).

    Args:
        work_dir (str): A work dir given to tools/train.py.

    Returns:
        list[dict]: One dict per logged step, e.g. ``{'loss': 29.1, 'iter': 10, ...}``.

    Raises:
        FileNotFoundError: no scalars.json below ``work_dir``.
    """
    path = _newest_run_file(work_dir, osp.join('vis_data', 'scalars.json'))
    if path is None:
        raise FileNotFoundError(f'no */vis_data/scalars.json in {work_dir}: is it a work dir of '
                                'tools/train.py with the LocalVisBackend?')
    with open(path) as file:
        return [json.loads(line) for line in file if line.strip()]


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


def final_metrics(work_dir: str) -> Dict[str, float]:
    """The last logged value of every evaluation metric (keys like ``accuracy/top1``,
    ``coco/bbox_mAP``, ``pascal_voc/mAP``: scalars whose name has a '/')."""
    metrics: Dict[str, float] = {}
    for record in read_scalars(work_dir):
        metrics.update({k: float(v) for k, v in record.items() if '/' in k})
    return metrics


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


def frozen_feature_metrics(work_dir: str) -> Dict[str, Dict[str, float]]:
    """The kNN / linear-probe results kept in ``work_dir`` (see FROZEN_FEATURE_RESULTS).

    Returns:
        dict: task (e.g. 'kNN k=20', 'probe') -> metrics, for the files that exist.
    """
    found = {}
    for name, (task, readers) in FROZEN_FEATURE_RESULTS.items():
        path = osp.join(work_dir, name)
        if osp.isfile(path):
            with open(path) as file:
                results = json.load(file)
            try:
                found[task] = {key: float(read(results)) for key, read in readers.items()}
            except (KeyError, TypeError) as error:
                raise ValueError(f'{path}: not a result of the tool that writes {name} '
                                 f'(missing {error})') from None
    return found


def downstream_metrics(work_dir: str) -> Dict[str, Dict[str, float]]:
    """Final metrics of the downstream evaluations of one initialisation.

    The convention of tools/demo.sh: a pretraining work dir holds its transfer runs in
    subfolders, e.g. ``det/``, each a work dir, and the frozen-feature results
    ``knn.json`` / ``linear_probe.json`` (:func:`frozen_feature_metrics`).

    Returns:
        dict: task (subfolder name, or 'kNN k=20' / 'probe') -> its final metrics.
    """
    found = frozen_feature_metrics(work_dir)
    for sub in sorted(glob.glob(osp.join(work_dir, '*', ''))):
        sub = osp.normpath(sub)
        if is_work_dir(sub):
            found[osp.basename(sub)] = final_metrics(sub)
    return found


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
