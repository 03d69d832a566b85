"""Split one image into grid x grid overlapping patches (the JigClu / MEJigClu "split")."""
import math
from numbers import Real
from typing import List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from mmcv.transforms import BaseTransform, Compose

from mejigclu_mm.augmentation import PatchPhotometric
from mmpretrain.registry import TRANSFORMS


def patch_spans(length: int, grid: int, overlap: float) -> List[Tuple[int, int]]:
    """Start/stop pixels of the ``grid`` patches along one image axis of ``length`` pixels.

    Every patch has side ``length * (1 + 2 * overlap) / grid`` and the patches are evenly
    spaced from one image edge to the other. For grid = 2 this is the JigClu geometry: the first
    patch covers [0, L/2 + overlap*L], the second [L/2 - overlap*L, L]; overlap 0 gives plain
    halves and 0.3 gives patches of 0.8 L. For grid > 2 (our choice) the patch side keeps the
    same formula, so neighbouring patches share ``2 * overlap * L / (grid - 1)`` pixels.

    Args:
        length (int): Image size along the axis, pixels.
        grid (int): Patches along the axis, m >= 2.
        overlap (float): Overlap ratio c in [0, 0.5).

    Returns:
        list[tuple[int, int]]: (start, stop) of each patch, stop exclusive.
    """
    size = int(round(length * (1 + 2 * overlap) / grid))
    step = (length - size) / (grid - 1)
    starts = [int(round(k * step)) for k in range(grid)]
    return [(start, start + size) for start in starts]


def jigsaw_boxes(height: int, width: int, grid: int, overlap: float) -> np.ndarray:
    """(grid*grid) x 4 boxes (x1, y1, x2, y2), row-major: 0 = top-left, 1 = top-right, ..."""
    rows, cols = patch_spans(height, grid, overlap), patch_spans(width, grid, overlap)
    return np.array([(x1, y1, x2, y2) for (y1, y2) in rows for (x1, x2) in cols], dtype=np.int64)


def random_resized_crop_box(height: int, width: int, scale: Tuple[float, float],
                            ratio: Tuple[float, float], attempts: int = 10
                            ) -> Tuple[int, int, int, int]:
    """(x, y, w, h) of a random crop with area fraction in ``scale`` and aspect in ``ratio``.

    torchvision's ``RandomResizedCrop.get_params`` (also mmpretrain's): up to ``attempts``
    draws, else a centre crop with the aspect clamped to ``ratio``.
    """
    area = height * width
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(attempts):
        target_area = area * np.random.uniform(*scale)
        aspect = math.exp(np.random.uniform(*log_ratio))
        w = int(round(math.sqrt(target_area * aspect)))
        h = int(round(math.sqrt(target_area / aspect)))
        if 0 < w <= width and 0 < h <= height:
            return np.random.randint(0, width - w + 1), np.random.randint(0, height - h + 1), w, h
    in_ratio = width / height
    if in_ratio < ratio[0]:
        w, h = width, int(round(width / ratio[0]))
    elif in_ratio > ratio[1]:
        w, h = int(round(height * ratio[1])), height
    else:
        w, h = width, height
    return (width - w) // 2, (height - h) // 2, w, h


def _check_overlap(overlap) -> Tuple[float, float]:
    """Return (low, high) for a fixed overlap or a range, both within [0, 0.5)."""
    if isinstance(overlap, Real):
        low = high = float(overlap)
    elif isinstance(overlap, Sequence) and len(overlap) == 2:
        low, high = (float(v) for v in overlap)
    else:
        raise ValueError(f'JigsawSplit: overlap must be a number or a (low, high) pair, '
                         f'got {overlap!r}')
    if low < 0:
        raise ValueError(f'JigsawSplit: overlap must be >= 0 (0 cuts plain, touching patches), '
                         f'got {overlap!r}')
    if high >= 0.5:
        raise ValueError(f'JigsawSplit: overlap must be < 0.5, got {overlap!r}; at 0.5 every '
                         'patch would be the whole image')
    if low > high:
        raise ValueError(f'JigsawSplit: overlap range must be (low, high) with low <= high, '
                         f'got {overlap!r}')
    return low, high


@TRANSFORMS.register_module()
class JigsawSplit(BaseTransform):
    """Cut an image at its native resolution into grid x grid overlapping patches.

    The split of `Jigsaw Clustering <https://arxiv.org/abs/2104.00323>`_ (fixed overlap 0.3)
    and of `MEJigClu` (overlap drawn per image from a range, "randomly set varying from 0.15 and
    0.45"; one draw per image, the same for both axes, is our choice). Every patch then gets its
    own augmentation:

    - geometry, here on the CPU (``patch_size`` set): a random resized crop inside the patch
      and a horizontal flip, computed in the image's coordinates so that each patch costs one
      crop-and-resize of the decoded image (OpenCV) and no copy of the whole image;
    - ``patch_pipeline``: any further per-patch transforms (mmpretrain's), on the CPU;
    - ``photometric``: the CPU fallback of the colour recipe (``PatchPhotometric`` arguments),
      applied here in the workers, per image, with independent draws per patch, on RGB (or
      grey) images: an image whose loader recorded another order (``img_channel_order``, set
      by ``CheckedLoadImageFromFile``), or that mmcv's loader read from a file (BGR), is
      refused by name. The default place of the recipe is the device:
      ``JigsawDataPreprocessor(photometric=...)``, batched after the montage exchange, same
      code. A run that sets both is refused (``DataloaderCheckHook``).

    Patches stay uint8, in the channel order of the input. Required keys: ``img`` (H x W or
    H x W x C). Modified keys: ``img`` (list of grid*grid patches, row-major), ``img_shape``.
    Added keys: ``jigsaw_overlap``; with ``with_boxes``, ``jigsaw_boxes`` ((grid*grid) x 4
    patch boxes x1, y1, x2, y2 in the input image).

    Example:
        >>> pipeline = [
        ...     dict(type='LoadImageFromFile'),
        ...     dict(type='JigsawSplit', grid=2, overlap=(0.15, 0.45), patch_size=112,
        ...          flip_prob=0.5),
        ...     dict(type='PackInputs')]

    Args:
        grid (int): Patches per side, m >= 2. Defaults to 2.
        overlap (float | tuple[float, float]): Overlap ratio c in [0, 0.5), or a (low, high)
            range from which c is drawn uniformly per image. Defaults to 0.3 (JigClu).
        patch_size (int, optional): Side of the output patches; None keeps the raw crops (and
            no random resized crop or flip here). Defaults to None.
        crop_scale (tuple[float, float]): Area fraction of the random resized crop within the
            patch. Defaults to (0.2, 1.0) (MoCo v2).
        crop_ratio (tuple[float, float]): Aspect-ratio range of the crop. Defaults to
            (3/4, 4/3).
        flip_prob (float): Probability of a horizontal flip of each patch. Defaults to 0.
        interpolation (str): ``'bilinear'`` (OpenCV's, as mmpretrain's ``RandomResizedCrop``
            of its supervised configs) or ``'area'`` (area averaging when shrinking, which
            antialiases like PIL's bilinear resize, at a higher per-image cost: docs/speed.md).
            Defaults to ``'bilinear'``.
        photometric (dict, optional): ``PatchPhotometric`` arguments of the recipe applied
            here, on the CPU, to RGB images; None leaves colours alone (the device applies the
            recipe). Defaults to None.
        with_boxes (bool): Keep the patch boxes as ``jigsaw_boxes`` (for pictures of the
            split: tools/visualize_montage.py); training packs no boxes. Defaults to False.
        patch_pipeline (list[dict]): Transforms applied to each patch after the geometry.
            Defaults to [].
        min_patch_size (int): Smallest patch side, pixels; a smaller image is refused with an
            error that names it. Defaults to 8.
    """

    def __init__(self, grid: int = 2, overlap: Union[float, Tuple[float, float]] = 0.3,
                 patch_size: Optional[int] = None, crop_scale: Tuple[float, float] = (0.2, 1.0),
                 crop_ratio: Tuple[float, float] = (3. / 4., 4. / 3.), flip_prob: float = 0.,
                 interpolation: str = 'bilinear', photometric: Optional[dict] = None,
                 with_boxes: bool = False,
                 patch_pipeline: Sequence[dict] = (), min_patch_size: int = 8):
        if not isinstance(grid, int) or grid < 2:
            raise ValueError(f'JigsawSplit: grid must be an integer >= 2, got {grid!r}')
        if interpolation not in ('bilinear', 'area'):
            raise ValueError(f"JigsawSplit: interpolation must be 'bilinear' or 'area', got "
                             f'{interpolation!r}')
        if not 0 < crop_scale[0] <= crop_scale[1] <= 1:
            raise ValueError(f'JigsawSplit: crop_scale must satisfy 0 < low <= high <= 1, got '
                             f'{tuple(crop_scale)}')
        self.grid = grid
        self.overlap = overlap
        self.overlap_range = _check_overlap(overlap)
        self.patch_size = patch_size
        self.crop_scale, self.crop_ratio = tuple(crop_scale), tuple(crop_ratio)
        self.flip_prob = flip_prob
        self.interpolation = interpolation
        self.photometric = None if photometric is None else dict(photometric)
        # built now so that a bad recipe fails when the pipeline is built, not in a worker
        self._cpu_photometric = None if photometric is None else PatchPhotometric(**photometric)
        self.with_boxes = with_boxes
        # Built through mmpretrain's registry, so that mmpretrain's transforms are found whatever
        # the default scope (mmcv's Compose alone looks in the current scope only).
        self.patch_pipeline = Compose([TRANSFORMS.build(t) if isinstance(t, dict) else t
                                       for t in patch_pipeline])
        self.min_patch_size = min_patch_size

    def sample_overlap(self) -> float:
        """The overlap for one image: fixed, or uniform in the configured range."""
        low, high = self.overlap_range
        return low if low == high else float(np.random.uniform(low, high))

    def _crop(self, img: np.ndarray, box: np.ndarray) -> np.ndarray:
        """One patch: its random resized crop and flip, or the raw crop without patch_size."""
        x1, y1, x2, y2 = (int(v) for v in box)
        if self.patch_size is None:
            return np.ascontiguousarray(img[y1:y2, x1:x2])  # a copy: the crops overlap
        x, y, w, h = random_resized_crop_box(y2 - y1, x2 - x1, self.crop_scale, self.crop_ratio)
        region = img[y1 + y:y1 + y + h, x1 + x:x1 + x + w]  # a view, no copy
        size = self.patch_size
        shrink = w > size or h > size
        patch = cv2.resize(region, (size, size), interpolation=cv2.INTER_AREA
                           if shrink and self.interpolation == 'area' else cv2.INTER_LINEAR)
        if img.ndim == 3 and patch.ndim == 2:  # OpenCV drops a single channel
            patch = patch[..., None]
        if self.flip_prob > 0 and np.random.rand() < self.flip_prob:
            patch = patch[:, ::-1]  # a view: packing copies the patch once anyway
        return patch

    def _photometric_on_cpu(self, patches: List[np.ndarray], results: dict) -> List[np.ndarray]:
        """Apply the recipe to all patches of the image in one batch (own draws per patch)."""
        import torch
        order = results.get('img_channel_order')
        if order not in (None, 'rgb') or (order is None and 'img_path' in results):
            raise ValueError(
                f'JigsawSplit(photometric=...) applies colour operations to RGB images, but '
                f'{results.get("img_path")} was loaded '
                f'{"as " + order.upper() if order else "by a loader that gives BGR"}: load it '
                "with dict(type='CheckedLoadImageFromFile', channel_order='rgb')")
        batch = torch.from_numpy(np.stack(patches))
        if batch.dim() == 3:
            batch = batch.unsqueeze(-1)
        batch = self._cpu_photometric(batch.permute(0, 3, 1, 2).float() / 255.)
        out = (batch * 255.).round_().to(torch.uint8).permute(0, 2, 3, 1).numpy()
        return [p.reshape(patches[0].shape) for p in out]

    def transform(self, results: dict) -> dict:
        """Split ``results['img']`` and augment every patch."""
        img = results['img']
        if not isinstance(img, np.ndarray) or img.ndim not in (2, 3):
            raise TypeError(f'JigsawSplit expects one H x W [x C] image array in results["img"],'
                            f' got {type(img).__name__} {getattr(img, "shape", "")} '
                            f'({results.get("img_path", "no path")})')
        height, width = img.shape[:2]
        overlap = self.sample_overlap()
        boxes = jigsaw_boxes(height, width, self.grid, overlap)
        patch_h, patch_w = boxes[0, 3] - boxes[0, 1], boxes[0, 2] - boxes[0, 0]
        if min(patch_h, patch_w) < self.min_patch_size:
            raise ValueError(
                f'JigsawSplit: image {results.get("img_path", "(in memory)")} of {height} x '
                f'{width} pixels is too small to cut {self.grid} x {self.grid} patches of at least'
                f' {self.min_patch_size} px at overlap {overlap:.3f} (patches would be {patch_h} '
                f'x {patch_w})')
        patches = []
        for box in boxes:
            patch = self._crop(img, box)
            if self.patch_pipeline.transforms:
                patch_results = self.patch_pipeline(
                    dict(results, img=patch, img_shape=patch.shape[:2]))
                if patch_results is None:
                    raise RuntimeError('JigsawSplit: a transform of patch_pipeline dropped the '
                                       'patch')
                patch = patch_results['img']
            patches.append(patch)
        if self.photometric is not None:
            patches = self._photometric_on_cpu(patches, results)
        results['img'] = patches
        results['img_shape'] = patches[0].shape[:2]
        if self.with_boxes:
            results['jigsaw_boxes'] = boxes
        results['jigsaw_overlap'] = overlap
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(grid={self.grid}, overlap={self.overlap!r}, '
                f'patch_size={self.patch_size}, crop_scale={self.crop_scale}, '
                f'crop_ratio={self.crop_ratio}, flip_prob={self.flip_prob}, '
                f'interpolation={self.interpolation!r}, '
                f'photometric={self.photometric!r}, with_boxes={self.with_boxes}, '
                f'patch_pipeline={self.patch_pipeline!r}, min_patch_size={self.min_patch_size})')
