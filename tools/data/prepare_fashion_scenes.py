"""Compose detection / segmentation scenes from real Fashion-MNIST garments.

Usage:
    python tools/data/prepare_fashion_scenes.py [--src data/fashion_mnist]
        [--out data/fashion_scenes] [--seed 0] [--canvas 64] [--train 1000] [--val 250]
        [--test 500]
    python tools/data/prepare_fashion_scenes.py --singles [--out data/fashion_singles]
        [--canvas 48] [--scale 12 18] [--train 60000] [--test 10000]

Each scene is a black ``canvas`` x ``canvas`` grey image holding 2-4 garments of the
Fashion-MNIST *test* split (the demo pretrains only on the training split), each resized so that
its 28 px square becomes ``--scale`` px (default 20-36: the pretraining sees garments at 16-32 px)
and placed at a random position, boxes at least ``--gap`` px apart, so no garment hides another.
The three splits take their garments from disjoint parts of the test split: train scenes from
test images 0-4999, val scenes (for choosing schedules) from 5000-7499, test scenes (for the
tables) from 7500-9999. The garment's
pixels (brighter than ``--threshold``, holes filled) give its instance mask, its box and its
pixels in the semantic label map (0 background, 1-10 the Fashion-MNIST classes). Everything
follows from ``--seed``: the same arguments give the same files.

Writes, in mmdet's COCO and mmseg's image / label-map layouts::

    OUT/images/{train,val,test}/000000.png  grey scenes
    OUT/labels/{train,val,test}/000000.png  uint8 label maps (0 background, 1-10 classes)
    OUT/annotations/{train,val,test}.json   COCO: boxes, RLE instance masks, 10 categories
    OUT/meta.json                           the arguments, source and counts it was made with

``--singles`` makes a *pretraining* set instead, for MEJigClu's Fig. 1 case (a small object away
from the image centre, where a fixed split overlap cuts it): one garment per canvas, of the
Fashion-MNIST *training* split for the training images (the test split for the test images),
resized to ``--scale`` px and placed where its box keeps clear of the canvas's central square
(side canvas / 4). It is written in Fashion-MNIST's own IDX format (OUT/train-images-idx3-ubyte,
its labels, and t10k-*), so a Fashion-MNIST config pretrains on it with
``train_dataloader.dataset.data_root=OUT``
(configs/comparisons/mejigclu-vs-jigclu_resnet18-cifar_fashion-singles-off-centre.py).

Nothing is overwritten: the set is written into a temporary folder beside OUT and renamed into
place; an OUT made with the same arguments from the same source files (their SHA-256) is kept
as it is, one made otherwise is refused, naming what differs.
"""
import argparse
import gzip
import hashlib
import json
import os
import os.path as osp
import struct

import cv2
import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils
from scipy.ndimage import binary_fill_holes

from mejigclu_mm.cli.prepared_folder import build_folder, reuse_or_refuse

# Fashion-MNIST's classes in label order (as mmpretrain's FashionMNIST names them)
CLASSES = ('T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker',
           'Bag', 'Ankle boot')
SPLITS = ('train', 'val', 'test')
FORMAT_VERSION = 2
SOURCE_FILES = ('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte')


def source_ranges(count):
    """The test-split images each split takes its garments from: the first half for train, the
    third quarter for val, the last for test (0-4999, 5000-7499, 7500-9999 of 10000)."""
    return dict(train=(0, count // 2), val=(count // 2, 3 * count // 4),
                test=(3 * count // 4, count))


def source_path(src, name):
    """The file ``name`` in ``src``, or its gzipped copy."""
    path = osp.join(src, name)
    return path if osp.isfile(path) or not osp.isfile(path + '.gz') else path + '.gz'


def source_digest(src, names=SOURCE_FILES):
    """SHA-256 of the garments' source files (their decompressed content, so that a gzipped
    and a plain copy of the same data agree)."""
    digest = hashlib.sha256()
    for name in names:
        path = source_path(src, name)
        if not osp.isfile(path):
            raise SystemExit(f'prepare_fashion_scenes: {osp.join(src, name)} not found; run '
                             'tools/data/prepare_fashion_mnist.py first or pass --src')
        opener = gzip.open if path.endswith('.gz') else open
        with opener(path, 'rb') as file:
            for block in iter(lambda: file.read(1 << 20), b''):
                digest.update(block)
    return digest.hexdigest()


def read_idx(path):
    """An IDX file (optionally gzipped) of Fashion-MNIST as a uint8 array.

    Raises:
        SystemExit: the file is missing or not an IDX file of images or labels.
    """
    for candidate in (path, path + '.gz'):
        if osp.isfile(candidate):
            opener = gzip.open if candidate.endswith('.gz') else open
            with opener(candidate, 'rb') as file:
                data = file.read()
            break
    else:
        raise SystemExit(f'prepare_fashion_scenes: {path} not found; run '
                         'tools/data/prepare_fashion_mnist.py first or pass --src')
    magic = struct.unpack('>I', data[:4])[0] if len(data) >= 4 else None
    if magic == 0x803 and len(data) >= 16:
        count, rows, cols = struct.unpack('>III', data[4:16])
        shape, offset = (count, rows, cols), 16
    elif magic == 0x801 and len(data) >= 8:
        shape, offset = (struct.unpack('>I', data[4:8])[0], ), 8
    else:
        raise SystemExit(f'prepare_fashion_scenes: {candidate} is not an IDX file of images or '
                         f'labels (magic {magic!r})')
    if len(data) != offset + int(np.prod(shape)):
        raise SystemExit(f'prepare_fashion_scenes: {candidate} is cut off or too long '
                         f'({len(data)} bytes for shape {shape})')
    return np.frombuffer(data, np.uint8, offset=offset).reshape(shape)


def garment_cutout(image, side, threshold):
    """The garment of a 28 x 28 image resized to ``side`` px, cut to its pixels.

    Returns:
        tuple: (pixels, mask) of the garment's tight box, or (None, None) when no pixel is
        brighter than ``threshold``.
    """
    interpolation = cv2.INTER_AREA if side < image.shape[0] else cv2.INTER_LINEAR
    resized = cv2.resize(image, (side, side), interpolation=interpolation)
    mask = binary_fill_holes(resized > threshold)
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    if rows.size == 0:
        return None, None
    box = np.s_[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    return np.where(mask[box], resized[box], 0).astype(np.uint8), mask[box]


def boxes_apart(box, boxes, gap):
    """Whether ``box`` (x1, y1, x2, y2) stays at least ``gap`` px away from every box."""
    x1, y1, x2, y2 = box
    return all(x1 >= bx2 + gap or bx1 >= x2 + gap or y1 >= by2 + gap or by1 >= y2 + gap
               for bx1, by1, bx2, by2 in boxes)


def compose_scene(rng, images, labels, order, args):
    """One scene from the garments ``order`` yields.

    Returns:
        tuple: (image, label map, instances), an instance being (source index, class index,
        box, mask).
    """
    canvas = np.zeros((args.canvas, args.canvas), np.uint8)
    label_map = np.zeros_like(canvas)
    instances, boxes = [], []
    for _ in range(rng.integers(args.garments[0], args.garments[1] + 1)):
        index = next(order)
        pixels, mask = garment_cutout(images[index], int(rng.integers(args.scale[0],
                                                                      args.scale[1] + 1)),
                                      args.threshold)
        if pixels is None:
            continue
        height, width = mask.shape
        for _ in range(100):  # rejection sampling of a free position
            x1 = int(rng.integers(0, args.canvas - width + 1))
            y1 = int(rng.integers(0, args.canvas - height + 1))
            box = (x1, y1, x1 + width, y1 + height)
            if boxes_apart(box, boxes, args.gap):
                break
        else:
            continue  # no room left for this garment
        region = np.s_[y1:y1 + height, x1:x1 + width]
        canvas[region] = np.where(mask, pixels, canvas[region])
        label_map[region][mask] = labels[index] + 1
        full_mask = np.zeros_like(canvas, dtype=bool)
        full_mask[region] = mask
        boxes.append(box)
        instances.append((index, int(labels[index]), box, full_mask))
    return canvas, label_map, instances


def garment_order(rng, start, stop):
    """Source indices in [start, stop), each once per pass, in a new random order per pass."""
    while True:
        yield from (start + rng.permutation(stop - start)).tolist()


def build_split(split, count, images, labels, out, args):
    """Write ``count`` scenes of ``split`` into ``out``; returns their COCO dict."""
    rng = np.random.default_rng([args.seed, SPLITS.index(split)])
    order = garment_order(rng, *source_ranges(len(images))[split])
    for sub in ('images', 'labels'):
        os.makedirs(osp.join(out, sub, split))
    coco = dict(images=[], annotations=[],
                categories=[dict(id=i + 1, name=name) for i, name in enumerate(CLASSES)])
    for image_id in range(count):
        scene, label_map, instances = compose_scene(rng, images, labels, order, args)
        file_name = f'{image_id:06d}.png'
        Image.fromarray(scene).save(osp.join(out, 'images', split, file_name))
        Image.fromarray(label_map).save(osp.join(out, 'labels', split, file_name))
        coco['images'].append(dict(id=image_id, file_name=f'{split}/{file_name}',
                                   width=args.canvas, height=args.canvas))
        for index, label, (x1, y1, x2, y2), mask in instances:
            rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
            coco['annotations'].append(dict(
                id=len(coco['annotations']) + 1, image_id=image_id, category_id=label + 1,
                bbox=[x1, y1, x2 - x1, y2 - y1], area=int(mask.sum()), iscrowd=0,
                segmentation=dict(size=rle['size'], counts=rle['counts'].decode('ascii')),
                fashion_mnist_test_index=index))
    with open(osp.join(out, 'annotations', f'{split}.json'), 'w') as file:
        json.dump(coco, file)
    return coco


SINGLES_SOURCES = dict(train=('train-images-idx3-ubyte', 'train-labels-idx1-ubyte'),
                       t10k=('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'))


def write_idx(path, array):
    """Write a uint8 array of images (N x H x W) or labels (N) as an IDX file."""
    magic = 0x803 if array.ndim == 3 else 0x801
    with open(path, 'wb') as file:
        file.write(struct.pack(f'>I{array.ndim}I', magic, *array.shape))
        file.write(np.ascontiguousarray(array, np.uint8).tobytes())


def off_centre_position(rng, canvas, height, width):
    """(x1, y1) of a ``height`` x ``width`` box on the canvas that keeps clear of its central
    square of side canvas / 4: the object lies away from the image centre (Fig. 1)."""
    low, high = canvas * 3 // 8, canvas - canvas * 3 // 8  # the central square [low, high)
    for _ in range(1000):
        x1 = int(rng.integers(0, canvas - width + 1))
        y1 = int(rng.integers(0, canvas - height + 1))
        if x1 + width <= low or x1 >= high or y1 + height <= low or y1 >= high:
            return x1, y1
    raise SystemExit(f'prepare_fashion_scenes: no off-centre place for a {width} x {height} '
                     f'garment on a {canvas} px canvas: a larger --canvas or a smaller --scale')


def build_singles(prefix, count, images, labels, out, args):
    """Write ``count`` off-centre single-garment canvases of ``prefix``'s split as IDX files."""
    rng = np.random.default_rng([args.seed, list(SINGLES_SOURCES).index(prefix), 7])
    order = garment_order(rng, 0, len(images))
    canvases = np.zeros((count, args.canvas, args.canvas), np.uint8)
    classes = np.zeros(count, np.uint8)
    for slot in range(count):
        pixels = None
        while pixels is None:  # a blank source image has no garment: take the next
            index = next(order)
            side = int(rng.integers(args.scale[0], args.scale[1] + 1))
            pixels, mask = garment_cutout(images[index], side, args.threshold)
        x1, y1 = off_centre_position(rng, args.canvas, *mask.shape)
        canvases[slot, y1:y1 + mask.shape[0], x1:x1 + mask.shape[1]] = pixels
        classes[slot] = labels[index]
    image_file, label_file = SINGLES_SOURCES[prefix]
    write_idx(osp.join(out, image_file), canvases)
    write_idx(osp.join(out, label_file), classes)
    return count


def settings(args, digest):
    """What the scene set depends on, as stored in meta.json."""
    if args.singles:
        return dict(format_version=FORMAT_VERSION, kind='singles off centre', seed=args.seed,
                    canvas=args.canvas, scale=list(args.scale), threshold=args.threshold,
                    images=dict(train=args.train, test=args.test), source_sha256=digest)
    return dict(format_version=FORMAT_VERSION, seed=args.seed, canvas=args.canvas,
                garments=list(args.garments), scale=list(args.scale), gap=args.gap,
                threshold=args.threshold,
                scenes=dict(train=args.train, val=args.val, test=args.test),
                source_sha256=digest)


def check_args(args):
    """Refuse settings that cannot make the scenes, naming the option."""
    low, high = args.scale
    if not 4 <= low <= high:
        raise SystemExit(f'prepare_fashion_scenes: --scale {low} {high}: need 4 <= low <= high')
    if high > args.canvas:
        raise SystemExit(f'prepare_fashion_scenes: --scale up to {high} px does not fit a '
                         f'--canvas of {args.canvas} px')
    if not 1 <= args.garments[0] <= args.garments[1]:
        raise SystemExit(f'prepare_fashion_scenes: --garments {args.garments[0]} '
                         f'{args.garments[1]}: need 1 <= low <= high')
    if args.singles and args.scale[1] > args.canvas * 3 // 8:
        raise SystemExit(f'prepare_fashion_scenes: --singles --scale up to {args.scale[1]} px '
                         f'leaves no room off the centre of a --canvas of {args.canvas} px '
                         f'(at most {args.canvas * 3 // 8} px)')
    if min(args.train, args.val, args.test) < 1:
        raise SystemExit('prepare_fashion_scenes: --train, --val and --test need at least one '
                         'scene each')


def read_garments(src, image_file, label_file):
    """Fashion-MNIST images (N x 28 x 28) and labels of ``src``; refused by name otherwise."""
    images = read_idx(osp.join(src, image_file))
    labels = read_idx(osp.join(src, label_file))
    if images.shape[1:] != (28, 28) or labels.shape != images.shape[:1] or len(images) < 2:
        raise SystemExit(f'prepare_fashion_scenes: {osp.join(src, image_file)} does not hold '
                         f'Fashion-MNIST images (28 x 28) with one label each (shapes '
                         f'{images.shape}, {labels.shape})')
    return images, labels


def prepare(args):
    """Write the scene set into ``args.out`` unless it is already there.

    Returns:
        dict: The settings and counts (meta.json's content).
    """
    check_args(args)
    src = args.src
    if args.singles:
        sources = {prefix: read_garments(src, *names) for prefix, names in SINGLES_SOURCES.items()}
        digest = source_digest(src, [name for names in SINGLES_SOURCES.values() for name in names])
    else:
        images, labels = read_garments(src, *SOURCE_FILES)
        digest = source_digest(src)
    wanted = settings(args, digest)

    def other_garments(differ):
        return (f' (the source files of --src {src} are other garments)'
                if 'source_sha256' in differ else '')

    meta = reuse_or_refuse(args.out, wanted, 'prepare_fashion_scenes', hint=other_garments,
                           kind='scenes')
    if meta is not None:
        return dict(meta, made=False)

    def build(tmp):
        if args.singles:
            counts = {prefix: dict(images=build_singles(prefix, count, *sources[prefix], tmp,
                                                        args))
                      for prefix, count in (('train', args.train), ('t10k', args.test))}
            return dict(settings=wanted, counts=counts, classes=list(CLASSES),
                        source={prefix: osp.join(src, names[0])
                                for prefix, names in SINGLES_SOURCES.items()})
        return build_scenes(images, labels, tmp, args, wanted)

    meta = build_folder(args.out, build)
    return dict(meta, made=True)


def build_scenes(images, labels, out, args, wanted):
    """Write the three scene splits into ``out``; returns meta.json's content."""
    os.makedirs(osp.join(out, 'annotations'))
    counts = {}
    for split in SPLITS:
        coco = build_split(split, getattr(args, split), images, labels, out, args)
        counts[split] = dict(scenes=len(coco['images']), garments=len(coco['annotations']))
    return dict(settings=wanted, counts=counts, classes=['background', *CLASSES],
                source={split: f'Fashion-MNIST test images {a}-{b - 1} '
                               f'({osp.join(args.src, "t10k-images-idx3-ubyte")})'
                        for split, (a, b) in source_ranges(len(images)).items()})


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--src', default='data/fashion_mnist',
                        help='folder with t10k-images-idx3-ubyte[.gz] and its labels')
    parser.add_argument('--singles', action='store_true',
                        help="a pretraining set of one small garment per canvas, off centre "
                        "(MEJigClu's Fig. 1 case), in Fashion-MNIST's IDX format")
    parser.add_argument('--out', help='default: data/fashion_scenes (--singles: '
                        'data/fashion_singles)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--canvas', type=int, help='scene side in px (default 64; --singles 48)')
    parser.add_argument('--train', type=int,
                        help='training scenes (default 1000; --singles: images, 60000)')
    parser.add_argument('--val', type=int, default=250,
                        help='validation scenes (for choosing schedules; not with --singles)')
    parser.add_argument('--test', type=int,
                        help='test scenes, for the tables (default 500; --singles: images, 10000)')
    parser.add_argument('--garments', type=int, nargs=2, default=(2, 4), metavar=('MIN', 'MAX'),
                        help='garments tried per scene (fewer where no free place is left)')
    parser.add_argument('--scale', type=int, nargs=2, metavar=('MIN', 'MAX'),
                        help='side in px of the resized 28 px garment square (default 20 36; '
                        '--singles 12 18)')
    parser.add_argument('--gap', type=int, default=2, help='least distance between boxes, px')
    parser.add_argument('--threshold', type=int, default=8,
                        help='grey level above which a pixel belongs to the garment')
    args = parser.parse_args(argv)
    defaults = (dict(out='data/fashion_singles', canvas=48, train=60000, test=10000,
                     scale=(12, 18)) if args.singles else
                dict(out='data/fashion_scenes', canvas=64, train=1000, test=500, scale=(20, 36)))
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def main(argv=None):
    args = parse_args(argv)
    meta = prepare(args)
    verb = 'made' if meta['made'] else 'already there, kept'
    if args.singles:
        for prefix, count in meta['counts'].items():
            print(f'{prefix}: {count["images"]} off-centre single garments {verb}: '
                  f'{args.out}/{SINGLES_SOURCES[prefix][0]}')
        return meta
    for split, count in meta['counts'].items():
        print(f'{split}: {count["scenes"]} scenes, {count["garments"]} garments {verb}: '
              f'{args.out}/annotations/{split}.json, {args.out}/labels/{split}/')
    return meta


if __name__ == '__main__':
    main()
