"""Every deterministic probe of one frozen backbone: kNN and linear probe on a classification
config's data, and the dense probes on the Fashion-MNIST scenes. What ``tools/compare.py``
measures per run (through ``tools/probe_backbone.py``)."""
import time
from typing import Optional

import torch
from mmengine.config import Config

from mejigclu_mm.evaluation.dense_probes import (naming_probe, read_scenes, segmentation_probe,
                                                 stage_features)
from mejigclu_mm.evaluation.features import extract_features
from mejigclu_mm.evaluation.frozen_backbone import build_frozen_classifier, evaluation_dataloaders
from mejigclu_mm.evaluation.knn import knn_accuracy
from mejigclu_mm.evaluation.logistic_regression import linear_probe

# the metrics, their column names and units (tools/compare.py's tables)
METRICS = {
    'knn': ('kNN k=20 top-1', 'points'),
    'probe': ('probe top-1', 'points'),
    'seg_miou': ('seg probe mIoU (11)', 'points'),
    'seg_garment_miou': ('seg probe mIoU (10 garments)', 'points'),
    'seg_fg_iou': ('seg probe foreground IoU', 'points'),
    'naming': ('box naming top-1', 'points'),
}


def probe_backbone(cfg: Config, checkpoint: str, seed: int = 0,
                   scenes: Optional[str] = None, train_scenes: int = 0,
                   test_split: str = 'test', device: str = 'cpu', knn_k: int = 20) -> dict:
    """kNN (k = ``knn_k``, T = 0.07) and L-BFGS probe top-1 on ``cfg``'s data, and, with
    ``scenes``, the segmentation and naming probes.

    Args:
        cfg (Config): A classification config (the bank and probe training set are its training
            set, the queries its validation set; see :func:`evaluation_dataloaders`).
        checkpoint (str): The backbone's checkpoint, or ``'none'``: the random baseline of
            ``seed`` (the network pretraining with that seed starts from).
        seed (int): Seed of the random baseline. The probes' own splits use seed 0 whatever
            the backbone, so that paired runs share them. Defaults to 0.
        scenes (str, optional): The scenes folder for the dense probes. Defaults to None.
        train_scenes (int): Training scenes the dense probes fit on (0: all).
        test_split (str): Scenes they report on. Defaults to 'test'.
        device (str): Device. Defaults to 'cpu'.
        knn_k (int): Neighbours of the kNN. Defaults to 20.

    Returns:
        dict: ``knn``, ``probe`` and (with scenes) ``seg_miou``, ``seg_garment_miou``,
        ``seg_fg_iou``, ``naming``, in %; ``details`` of each probe and ``seconds``.
    """
    start = time.perf_counter()
    cfg = Config(cfg.to_dict())  # a copy: the backbone gains its last two stages
    if scenes:
        cfg.model.backbone.out_indices = (2, 3)
    model = build_frozen_classifier(cfg, checkpoint, device=device, seed=seed)
    bank_loader, query_loader = evaluation_dataloaders(cfg)
    bank, bank_labels = extract_features(model.data_preprocessor, model.backbone, bank_loader)
    query, query_labels = extract_features(model.data_preprocessor, model.backbone,
                                           query_loader)
    classes = len(getattr(bank_loader.dataset, 'metainfo', {}).get('classes') or ()) or \
        int(max(bank_labels.max(), query_labels.max())) + 1
    knn = knn_accuracy(query, query_labels, bank, bank_labels, classes, (knn_k, ))[knn_k]
    probe = linear_probe(bank, bank_labels, query, query_labels, classes, seed=0)
    results = dict(knn=knn, probe=probe['top1'],
                   details=dict(probe=dict(l2=probe['l2'], top5=probe['top5'],
                                           num_bank=len(bank), num_query=len(query))))
    if scenes:
        results.update(dense(model, scenes, train_scenes, test_split))
    results['seconds'] = time.perf_counter() - start
    return results


def dense(model, scenes: str, train_scenes: int, test_split: str) -> dict:
    """The segmentation and naming probes of a built frozen classifier (layer3, layer4 out)."""
    train, test = read_scenes(scenes, 'train', train_scenes), read_scenes(scenes, test_split)

    def normalise(images):
        return model.data_preprocessor(dict(inputs=images, data_samples=None), False)['inputs']

    train_views = [stage_features(model.backbone, normalise, train.images, flip=flip)
                   for flip in (False, True)]
    test_stages = stage_features(model.backbone, normalise, test.images)
    classes = int(max(train.labels.max(), test.labels.max())) + 1
    seg = segmentation_probe(train_views, train.labels, test_stages, test.labels,
                             num_classes=max(classes, 11))
    garments = int(max(torch.cat(train.box_labels).max(), torch.cat(test.box_labels).max())) + 1
    naming = naming_probe(train_views, train, test_stages, test, num_classes=max(garments, 10))
    return dict(seg_miou=seg['miou'], seg_garment_miou=seg['garment_miou'],
                seg_fg_iou=seg['fg_iou'], naming=naming['top1'],
                dense_details=dict(segmentation=seg, naming=naming,
                                   train_scenes=len(train.images), test_scenes=len(test.images),
                                   test_split=test_split))
