"""What the label maps of an mmseg dataset hold, read as mmseg reads them, against its classes.

mmseg 1.2.2's ``LoadAnnotations`` decodes a label map with ``flag='unchanged'``, squeezes it
and casts it to uint8 (values above 255 wrap), applies ``reduce_zero_label`` (0 -> 255, v -> v
- 1) and the dataset's ``label_map``; pixels equal to ``ignore_index`` (255) are ignored by the
loss and the metric, values from ``len(classes)`` up crash inside torch, and a colour image
(H x W x 3) reaches the loss as it is.
"""
import collections
from typing import Dict, List, Sequence

import mmcv
import numpy as np
from mmengine.fileio import get
from PIL import Image

from mejigclu_mm.runtime.hooks.transfer_data import DataCheck, shorten

# How many label maps are read: all of a set this small, else this many evenly spaced ones
MAX_LABEL_MAPS = 200
# Names of a background class that reduce_zero_label (label 0 -> ignored) must not be beside
BACKGROUND_NAMES = ('background', '_background_', 'bg', 'backdrop')


def sample_indices(size: int, count: int = MAX_LABEL_MAPS) -> List[int]:
    """All of ``range(size)`` when at most ``count``, else ``count`` evenly spaced indices
    (first and last included)."""
    if size <= count:
        return list(range(size))
    return sorted({int(round(i)) for i in np.linspace(0, size - 1, count)})


def _loader(dataset):
    """A fresh mmseg ``LoadAnnotations`` with the decoding backend of the dataset's pipeline."""
    from mmseg.datasets.transforms import LoadAnnotations
    backend = 'pillow'
    for transform in getattr(getattr(dataset, 'pipeline', None), 'transforms', []):
        if isinstance(transform, LoadAnnotations):
            backend = transform.imdecode_backend
    return LoadAnnotations(imdecode_backend=backend), backend


def _colour_problem(raw: np.ndarray, palette) -> str:
    """What a label map with several channels looks like it is."""
    channels = raw.shape[2]
    if all(np.array_equal(raw[..., 0], raw[..., c]) for c in range(1, channels)):
        return (f'{channels} equal channels, class indices saved as a colour image: save them '
                'with one channel (mode "L" or "P")')
    colours = {tuple(int(v) for v in c) for c in raw.reshape(-1, channels)[:, :3]}
    known = {tuple(c) for c in palette or []}
    if colours and colours <= (known | {tuple(reversed(c)) for c in known}):
        return ('the colours of the dataset\'s palette, rendered label maps: convert each '
                'colour to its class index (one channel, or a palette PNG)')
    return (f'{channels} channels ({len(colours)} colours): a label map holds one class index '
            'per pixel (one channel, or a palette PNG)')


def check_label_maps(dataset, split: str, max_maps: int = MAX_LABEL_MAPS) -> DataCheck:
    """Read (a sample of) ``dataset``'s label maps and compare what they hold with its
    classes, ``ignore_index`` and ``reduce_zero_label``.

    Args:
        dataset: A built mmseg ``BaseSegDataset``.
        split (str): How to name it (e.g. 'training set').
        max_maps (int): At most this many label maps are read (evenly spaced).

    Returns:
        DataCheck: Notes (the values found, in % of the pixels read; classes never seen) and
        problems (colour label maps, values beyond the classes, masks whose objects are all
        ``ignore_index``, 16-bit values, label maps of another size than their image,
        ``reduce_zero_label`` beside a background class).
    """
    classes = tuple(dataset.metainfo.get('classes') or ())
    ignore = int(getattr(dataset, 'ignore_index', 255))
    reduce_zero = bool(getattr(dataset, 'reduce_zero_label', False))
    root = getattr(dataset, 'data_prefix', {}).get('seg_map_path', '')
    check = DataCheck(f'{split} ({type(dataset).__name__}, label maps in {root})')
    if reduce_zero and classes and classes[0].lower() in BACKGROUND_NAMES:
        check.problems.append(
            f'reduce_zero_label=True makes label 0 ignored and shifts every other label down by '
            f'one, but the first class is {classes[0]!r}: every pixel would train as the class '
            'before its own. Set reduce_zero_label=False (labels 0 = background), or drop '
            f'{classes[0]!r} from the classes (labels 1-N, 0 unlabelled)')
    loader, backend = _loader(dataset)
    indices = sample_indices(len(dataset), max_maps)
    pixels = collections.Counter()
    first: Dict[int, str] = {}
    bad: Dict[str, List[str]] = collections.defaultdict(list)  # problem -> examples
    for index in indices:
        info = dataset.get_data_info(index)
        path = info['seg_map_path']
        raw = mmcv.imfrombytes(get(path), flag='unchanged', backend=backend)
        if raw is None:
            bad['not an image mmcv decodes'].append(path)
            continue
        raw = raw.squeeze()
        if raw.ndim == 3:
            bad[_colour_problem(raw, dataset.metainfo.get('palette'))].append(path)
            continue
        if raw.max() > 255:
            bad['values above 255, which mmseg reads as 8 bits (they wrap): keep the labels '
                'in 0-255'].append(f'{path} has {int(raw.max())}')
        with Image.open(info['img_path']) as image:
            if image.size != (raw.shape[1], raw.shape[0]):
                bad['another size than their image'].append(
                    f'{path} is {raw.shape[1]} x {raw.shape[0]} px, {info["img_path"]} '
                    f'{image.size[0]} x {image.size[1]}')
        labels = loader(dict(seg_map_path=path, reduce_zero_label=info['reduce_zero_label'],
                             label_map=info.get('label_map'), seg_fields=[]))['gt_seg_map']
        values, counts = np.unique(labels, return_counts=True)
        for value, count in zip(values.tolist(), counts.tolist()):
            pixels[value] += count
            first.setdefault(value, path)
    _value_notes(check, indices, len(dataset), pixels, classes, ignore)
    _value_problems(check, pixels, first, classes, ignore, reduce_zero)
    for problem, examples in bad.items():
        check.problems.append(f'{len(examples)} of the {len(indices)} label maps read have '
                              f'{problem} (e.g. {shorten(examples, 2)})')
    return check


def _value_notes(check: DataCheck, indices: Sequence[int], size: int, pixels, classes,
                 ignore: int) -> None:
    total = sum(pixels.values()) or 1
    read = 'every one' if len(indices) == size else f'{len(indices)}, evenly spaced'
    shares = [f'{classes[v] if 0 <= v < len(classes) else v} {100 * n / total:.1f} %'
              for v, n in sorted(pixels.items()) if v != ignore]
    if pixels[ignore]:
        shares.append(f'ignored ({ignore}) {100 * pixels[ignore] / total:.1f} %')
    check.note(f'{size} label maps, read {read}: {shorten(shares, 12)} of the pixels')
    unseen = [name for value, name in enumerate(classes) if not pixels[value]]
    if unseen and pixels:
        check.note(f'classes no pixel read has: {shorten(unseen)}', True)
    if pixels[ignore]:
        check.dropped = True


def _value_problems(check: DataCheck, pixels, first, classes, ignore: int,
                    reduce_zero: bool) -> None:
    beyond = sorted(v for v in pixels if v >= len(classes) and v != ignore)
    if beyond:
        hint = (' Labels counted from 1 with 0 as "unlabelled"? Set reduce_zero_label=True.'
                if not reduce_zero and 0 not in pixels and beyond == [len(classes)] else '')
        check.problems.append(
            f'{"values" if len(beyond) > 1 else "value"} {shorten([str(v) for v in beyond])} '
            f'{"are" if len(beyond) > 1 else "is"} neither a class (0-'
            f'{len(classes) - 1}: {len(classes)} classes) nor ignore_index {ignore} (e.g. '
            f'{first[beyond[0]]} has {beyond[0]}{" after reduce_zero_label" * reduce_zero}): '
            f'the loss would crash on them.{hint} Give every class of the data a name in '
            'metainfo.classes, or map such values to ignore_index')
    found = [v for v in pixels if 0 <= v < len(classes)]
    if pixels[ignore] and len(found) <= 1 and len(classes) > 1:
        what = f'class {classes[found[0]]!r}' if found else 'no class'
        check.problems.append(
            f'the label maps hold {what} and ignore_index {ignore} only '
            f'({100 * pixels[ignore] / sum(pixels.values()):.1f} % of the pixels): masks stored '
            f'as 0 / 255? {ignore} is ignore_index, so every object pixel would be ignored '
            '(acc_seg 100). Store each pixel\'s class index (1 for the objects of one class)')
