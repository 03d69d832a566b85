"""Split one image into grid x grid overlapping patches (the JigClu / MEJigClu "split")."""
from numbers import Real
from typing import List, Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform, Compose

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


def _check_overlap(overlap) -> Tuple[float, float]:
    """Return (low, high) for a fixed overlap or a range, both within [0, 0.5)."""
    if isinstance(overlap, Real):
        low = high = float(overlap)
    elif isinstance(overlap, Sequence) and len(overlap) == 2:
        low, high = (float(v) for v in overlap)
    else:
        raise ValueError(f'JigsawSplit: overlap must be a number or a (low, high) pair, '
                         f'got {overlap!r}')
    if not 0 <= low <= high < 0.5:
        raise ValueError(f'JigsawSplit: overlap must lie in [0, 0.5) (and low <= high), got '
                         f'{overlap!r}; at 0.5 every patch would be the whole image')
    return low, high


@TRANSFORMS.register_module()
class JigsawSplit(BaseTransform):
    """Cut an image at its native resolution into grid x grid overlapping patches.

    The split of `Jigsaw Clustering <https://arxiv.org/abs/2104.00323>`_ (fixed overlap 0.3)
    and of `MEJigClu` (overlap drawn per image from a range, "randomly set varying from 0.15 and
    0.45"; one draw per image, the same for both axes, is our choice). Each patch then runs
    through ``patch_pipeline`` on its own, so every patch gets its own augmentation.

    Required keys: ``img`` (H x W or H x W x C). Modified keys: ``img`` (list of grid*grid
    patches, row-major), ``img_shape``. Added keys: ``jigsaw_boxes`` ((grid*grid) x 4 crop boxes
    x1, y1, x2, y2 in the input image), ``jigsaw_overlap``.

    Example:
        >>> pipeline = [
        ...     dict(type='LoadImageFromFile'),
        ...     dict(type='JigsawSplit', grid=2, overlap=(0.15, 0.45),
        ...          patch_pipeline=[dict(type='RandomResizedCrop', scale=112)]),
        ...     dict(type='PackInputs')]

    Args:
        grid (int): Patches per side, m >= 2. Defaults to 2.
        overlap (float | tuple[float, float]): Overlap ratio c in [0, 0.5), or a (low, high)
            range from which c is drawn uniformly per image. Defaults to 0.3 (JigClu).
        patch_pipeline (list[dict]): Transforms applied to each patch. Defaults to [] (raw
            crops).
        min_patch_size (int): Smallest patch side, pixels; a smaller image is refused with an
            error that names it. Defaults to 8.
    """

    def __init__(self, grid: int = 2, overlap: Union[float, Tuple[float, float]] = 0.3,
                 patch_pipeline: Sequence[dict] = (), min_patch_size: int = 8):
        if not isinstance(grid, int) or grid < 2:
            raise ValueError(f'JigsawSplit: grid must be an integer >= 2, got {grid!r}')
        self.grid = grid
        self.overlap = overlap
        self.overlap_range = _check_overlap(overlap)
        # Built through mmpretrain's registry, so that mmpretrain's transforms are found whatever
        # the default scope (mmcv's Compose alone looks in the current scope only).
        self.patch_pipeline = Compose([TRANSFORMS.build(t) if isinstance(t, dict) else t
                                       for t in patch_pipeline])
        self.min_patch_size = min_patch_size

    def sample_overlap(self) -> float:
        """The overlap for one image: fixed, or uniform in the configured range."""
        low, high = self.overlap_range
        return low if low == high else float(np.random.uniform(low, high))

    def transform(self, results: dict) -> dict:
        """Split ``results['img']`` and run the patch pipeline on every patch."""
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
        for x1, y1, x2, y2 in boxes:
            crop = np.ascontiguousarray(img[y1:y2, x1:x2])  # a copy: the crops overlap
            patch_results = dict(results, img=crop, img_shape=crop.shape[:2])
            patch_results = self.patch_pipeline(patch_results)
            if patch_results is None:
                raise RuntimeError('JigsawSplit: a transform of patch_pipeline dropped the patch')
            patches.append(patch_results['img'])
        results['img'] = patches
        results['img_shape'] = patches[0].shape[:2]
        results['jigsaw_boxes'] = boxes
        results['jigsaw_overlap'] = overlap
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(grid={self.grid}, overlap={self.overlap!r}, '
                f'patch_pipeline={self.patch_pipeline!r}, min_patch_size={self.min_patch_size})')
