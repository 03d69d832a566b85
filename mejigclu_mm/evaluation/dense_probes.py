"""Convex dense probes of a frozen backbone on the Fashion-MNIST scenes: no optimiser noise.

Two probes read the backbone's last two stages on the scenes of
``tools/data/prepare_fashion_scenes.py`` and fit multinomial logistic regression by L-BFGS
(:mod:`mejigclu_mm.evaluation.logistic_regression`: deterministic up to float rounding, the
L2 strength chosen on held-out training scenes), instead of training detection or
segmentation heads for a few dozen noisy SGD steps:

- **segmentation**: per-pixel classification (11 classes with the background) of the features
  upsampled to the scene (layer4 bilinearly to layer3's size, concatenated, then to the
  labels' size, ``align_corners=False``; a linear classifier commutes with the upsampling, so
  the test logits are computed at layer3's size and upsampled). Training pixels: per scene
  and flip, ``pixels`` sampled, half from garments and half from the background (a uniform
  sample would be 85 % background). Reported: mIoU over the 11 classes, over the 10 garment
  classes, and the foreground (garment vs background) IoU, mmseg's convention (classes absent
  from both prediction and truth left out of the mean);
- **naming**: classification of each ground-truth box's RoIAlign features (2 x 2 bins of layer3
  and layer4, flattened) into the 10 garment classes: what a detector's box head must tell
  apart, without its proposals and regression. Reported: top-1 on the test scenes' boxes.

Both use the scenes' only augmentation, the horizontal flip, by adding the flipped training
scenes (features computed once, both ways).
"""
import json
import os.path as osp
from dataclasses import dataclass
from typing import Callable, Dict, List, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torchvision.ops import roi_align

from mejigclu_mm.evaluation.logistic_regression import (choose_l2, fit_logistic_regression,
                                                        topk_accuracy)

BACKGROUND = 0
# L2 strengths tried (the chosen one was 0.01 for every backbone measured) and L-BFGS
# iterations per fit: 100 and 300 iterations gave the same segmentation mIoU to 0.02 points
# on the demo's scenes (docs/evaluation.md)
DENSE_L2_GRID = (1e-3, 1e-2, 1e-1)
DENSE_MAX_ITER = 100


@dataclass
class Scenes:
    """The scenes of one split.

    Args:
        images (Tensor): N x 1 x H x W uint8 grey scenes.
        labels (Tensor): N x H x W uint8 label maps (0 background, 1-10 the garment classes).
        boxes (list[Tensor]): Per scene, k x 4 float boxes (x1, y1, x2, y2).
        box_labels (list[Tensor]): Per scene, k garment classes (0-9).
    """
    images: torch.Tensor
    labels: torch.Tensor
    boxes: List[torch.Tensor]
    box_labels: List[torch.Tensor]


def read_scenes(root: str, split: str, limit: int = 0) -> Scenes:
    """The scenes of ``split`` as ``prepare_fashion_scenes.py`` writes them.

    Args:
        root (str): The scenes folder (``images/``, ``labels/``, ``annotations/``).
        split (str): 'train', 'val' or 'test'.
        limit (int): Read only the first ``limit`` scenes (0: all).

    Raises:
        FileNotFoundError: the split's annotation file is missing (names it).
    """
    ann_file = osp.join(root, 'annotations', f'{split}.json')
    if not osp.isfile(ann_file):
        raise FileNotFoundError(f'{ann_file} not found: make the scenes with '
                                'tools/data/prepare_fashion_scenes.py')
    with open(ann_file) as file:
        coco = json.load(file)
    images = sorted(coco['images'], key=lambda image: image['id'])
    if limit:
        images = images[:limit]
    by_image: Dict[int, list] = {image['id']: [] for image in images}
    for ann in coco['annotations']:
        if ann['image_id'] in by_image:
            by_image[ann['image_id']].append(ann)
    category_ids = sorted(c['id'] for c in coco['categories'])
    category_index = {category: index for index, category in enumerate(category_ids)}
    pixels, labels, boxes, box_labels = [], [], [], []
    for image in images:
        name = image['file_name']
        pixels.append(np.asarray(Image.open(osp.join(root, 'images', name)).convert('L')))
        labels.append(np.asarray(Image.open(osp.join(root, 'labels', name))))
        anns = by_image[image['id']]
        boxes.append(torch.tensor([[x, y, x + w, y + h] for x, y, w, h in
                                   (a['bbox'] for a in anns)], dtype=torch.float32).view(-1, 4))
        box_labels.append(torch.tensor([category_index[a['category_id']] for a in anns],
                                       dtype=torch.long))
    return Scenes(torch.from_numpy(np.stack(pixels))[:, None],
                  torch.from_numpy(np.stack(labels)), boxes, box_labels)


@torch.no_grad()
def stage_features(backbone: Callable, normalise: Callable, images: torch.Tensor,
                   batch_size: int = 64, flip: bool = False) -> List[torch.Tensor]:
    """The backbone's last two stage outputs for N x 1 x H x W grey scenes (as 3 channels).

    Args:
        backbone (Callable): Returns a tuple whose last two entries are layer3 and layer4.
        normalise (Callable): N x 3 x H x W uint8 -> the backbone's input (on its device).
        images (Tensor): The scenes.
        batch_size (int): Scenes per forward. Defaults to 64.
        flip (bool): Mirror the scenes horizontally first. Defaults to False.

    Returns:
        list[Tensor]: [layer3, layer4] maps of all scenes, float32, on the CPU.
    """
    outputs: List[List[torch.Tensor]] = [[], []]
    for start in range(0, len(images), batch_size):
        x = images[start:start + batch_size].expand(-1, 3, -1, -1)
        if flip:
            x = x.flip(-1)
        stages = backbone(normalise(x))
        if len(stages) < 2:
            raise ValueError('the dense probes need the last two stages: build the backbone '
                             'with out_indices=(2, 3)')
        for index, stage in enumerate(stages[-2:]):
            outputs[index].append(stage.float().cpu())
    return [torch.cat(parts) for parts in outputs]


def pixel_maps(stages: Sequence[torch.Tensor]) -> torch.Tensor:
    """layer4 upsampled to layer3's size and concatenated with it (N x C x h x w)."""
    layer3, layer4 = stages
    return torch.cat([layer3, F.interpolate(layer4, size=layer3.shape[-2:], mode='bilinear',
                                            align_corners=False)], dim=1)


def sample_pixels(labels: torch.Tensor, pixels: int, generator: torch.Generator) -> torch.Tensor:
    """Per scene, ``pixels`` flat indices: half garments, half background (fewer when the scene
    has fewer), drawn without replacement."""
    chosen = []
    for label in labels.flatten(1):
        parts = []
        for mask in (label != BACKGROUND, label == BACKGROUND):
            where = mask.nonzero().flatten()
            order = torch.randperm(len(where), generator=generator)[:pixels // 2]
            parts.append(where[order])
        chosen.append(torch.cat(parts))
    return chosen


def pixel_samples(maps: torch.Tensor, labels: torch.Tensor, indices: List[torch.Tensor]):
    """Features and labels of the chosen pixels: the maps bilinearly upsampled to the labels'
    size, read at those pixels only (``grid_sample`` at the pixel centres with border padding
    is ``F.interpolate(..., align_corners=False)`` there, without upsampling whole maps)."""
    height, width = labels.shape[-2:]
    feats, targets = [], []
    for scene, index in enumerate(indices):
        rows, cols = index // width, index % width
        grid = torch.stack([(2 * cols + 1) / width - 1, (2 * rows + 1) / height - 1], dim=-1)
        sampled = F.grid_sample(maps[scene:scene + 1], grid.view(1, 1, -1, 2).float(),
                                mode='bilinear', padding_mode='border', align_corners=False)
        feats.append(sampled[0, :, 0].T)
        targets.append(labels[scene].flatten()[index].long())
    return torch.cat(feats), torch.cat(targets)


def iou_scores(confusion: torch.Tensor) -> Dict[str, float]:
    """mIoU (all classes), garment mIoU (classes 1-), foreground IoU, in %, from a confusion
    matrix (rows truth, columns prediction); classes absent from truth and prediction are left
    out of the means, as mmseg does."""
    confusion = confusion.double()
    intersect = confusion.diag()
    union = confusion.sum(0) + confusion.sum(1) - intersect
    iou = torch.where(union > 0, intersect / union.clamp_min(1), torch.nan)
    background = confusion[BACKGROUND, BACKGROUND]
    fg_intersect = confusion[1:, 1:].sum()
    fg_union = confusion.sum() - background
    return dict(miou=float(iou.nanmean() * 100), garment_miou=float(iou[1:].nanmean() * 100),
                fg_iou=float(fg_intersect / fg_union * 100) if fg_union > 0 else float('nan'),
                class_iou=[None if torch.isnan(v) else float(v * 100) for v in iou])


def holdout_split(count: int, fraction: float, seed: int):
    order = torch.randperm(count, generator=torch.Generator().manual_seed(seed))
    held = int(round(count * fraction))
    return order[held:], order[:held]


def segmentation_probe(train_stages: Sequence[Sequence[torch.Tensor]], train_labels: torch.Tensor,
                       test_stages: Sequence[torch.Tensor], test_labels: torch.Tensor,
                       num_classes: int, pixels: int = 64, seed: int = 0,
                       holdout: float = 0.2) -> dict:
    """Per-pixel logistic regression on frozen features (see the module docstring).

    Args:
        train_stages: For each view of the training scenes (e.g. as they are and flipped),
            their [layer3, layer4] maps.
        train_labels (Tensor): N x H x W label maps of the training scenes (as they are; the
            flipped view's are mirrored here).
        test_stages: [layer3, layer4] maps of the test scenes.
        test_labels (Tensor): Their label maps.
        num_classes (int): Classes with the background.
        pixels (int): Training pixels per scene and view. Defaults to 64.
        seed (int): Seed of the pixel sample and the held-out scenes. Defaults to 0.
        holdout (float): Fraction of the training scenes that choose the L2 strength.

    Returns:
        dict: ``miou``, ``garment_miou``, ``fg_iou`` (%), ``class_iou``, ``l2`` and
        ``num_pixels`` (training samples).
    """
    generator = torch.Generator().manual_seed(seed)
    views = [(stages, train_labels.flip(-1) if index % 2 else train_labels)
             for index, stages in enumerate(train_stages)]
    fit_scenes, held_scenes = holdout_split(len(train_labels), holdout, seed)
    samples = {'fit': ([], []), 'held': ([], [])}
    for stages, labels in views:
        maps = pixel_maps(stages)
        for name, scenes in (('fit', fit_scenes), ('held', held_scenes)):
            x, y = pixel_samples(maps[scenes], labels[scenes],
                                 sample_pixels(labels[scenes], pixels, generator))
            samples[name][0].append(x)
            samples[name][1].append(y)
    (fit_x, fit_y), (held_x, held_y) = [(torch.cat(x), torch.cat(y))
                                        for x, y in samples.values()]
    l2, _ = choose_l2(fit_x, fit_y, held_x, held_y, num_classes, DENSE_L2_GRID, DENSE_MAX_ITER)
    layer = fit_logistic_regression(torch.cat([fit_x, held_x]), torch.cat([fit_y, held_y]),
                                    num_classes, l2, DENSE_MAX_ITER)
    maps = pixel_maps(test_stages)
    confusion = torch.zeros(num_classes, num_classes, dtype=torch.long)
    for start in range(0, len(maps), 32):
        logits = torch.einsum('nchw,kc->nkhw', maps[start:start + 32], layer.weight) + \
            layer.bias.view(1, -1, 1, 1)
        logits = F.interpolate(logits, size=test_labels.shape[-2:], mode='bilinear',
                               align_corners=False)
        truth = test_labels[start:start + 32].long().flatten()
        confusion += torch.bincount(truth * num_classes + logits.argmax(1).flatten(),
                                    minlength=num_classes ** 2).view(num_classes, num_classes)
    return dict(iou_scores(confusion), l2=l2, num_pixels=len(fit_x) + len(held_x))


def box_features(stages: Sequence[torch.Tensor], boxes: List[torch.Tensor],
                 image_size: int) -> torch.Tensor:
    """RoIAlign (2 x 2 bins, ``aligned=True``) of every box on layer3 and layer4, flattened."""
    rois = torch.cat([torch.cat([torch.full((len(b), 1), float(i)), b], dim=1)
                      for i, b in enumerate(boxes)])
    parts = []
    for stage in stages:
        scale = stage.shape[-1] / image_size
        parts.append(roi_align(stage, rois, output_size=2, spatial_scale=scale,
                               sampling_ratio=2, aligned=True).flatten(1))
    return torch.cat(parts, dim=1)


def flipped_boxes(boxes: List[torch.Tensor], width: int) -> List[torch.Tensor]:
    return [torch.stack([width - b[:, 2], b[:, 1], width - b[:, 0], b[:, 3]], dim=1)
            for b in boxes]


def naming_probe(train_stages: Sequence[Sequence[torch.Tensor]], train: Scenes,
                 test_stages: Sequence[torch.Tensor], test: Scenes, num_classes: int,
                 seed: int = 0, holdout: float = 0.2) -> dict:
    """Logistic regression of the ground-truth boxes' RoI features into garment classes.

    Args:
        train_stages: [layer3, layer4] maps of the training scenes as they are, then flipped.
        train (Scenes): The training scenes (boxes, classes).
        test_stages: [layer3, layer4] maps of the test scenes.
        test (Scenes): The test scenes.
        num_classes (int): Garment classes.
        seed (int): Seed of the held-out boxes. Defaults to 0.
        holdout (float): Fraction of the training boxes that choose the L2 strength.

    Returns:
        dict: ``top1`` (%) on the test boxes, ``l2``, ``num_boxes`` (training samples).
    """
    size = train.images.shape[-1]
    x = torch.cat([box_features(stages, flipped_boxes(train.boxes, size) if index % 2
                                else train.boxes, size)
                   for index, stages in enumerate(train_stages)])
    y = torch.cat([torch.cat(train.box_labels)] * len(train_stages))
    fit, held = holdout_split(len(x), holdout, seed)
    l2, _ = choose_l2(x[fit], y[fit], x[held], y[held], num_classes, DENSE_L2_GRID,
                      DENSE_MAX_ITER)
    layer = fit_logistic_regression(x, y, num_classes, l2, DENSE_MAX_ITER)
    test_x = box_features(test_stages, test.boxes, size)
    top1 = topk_accuracy(layer(test_x), torch.cat(test.box_labels), (1, ))[1]
    return dict(top1=top1, l2=l2, num_boxes=len(x))
