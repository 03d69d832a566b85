"""Tile deepforest's annotated aerial images into a small COCO-format tree-crown detection set.

Usage:
    python tools/data/prepare_deepforest.py [--out data/deepforest] [--tile 400]

Source: the Pascal VOC XML + image pairs in deepforest 2.1.0's data/ folder (MIT; extracted by
tools/setup_env.sh from requirements/offline-data.txt): about 950 tree crowns on 4 images.
Split by image, so no tile of a validation image is seen in training:
  train: 2019_YELL_2_528000_4978000_image_crop2 (2299 x 2472 px)
  val:   2019_YELL_2_541000_4977000_image_crop, OSBS_029, SOAP_061
Each image is cut into tile x tile px tiles (the last row / column aligned with the image edge);
a box is kept, clipped, when at least half of its area lies in the tile. One category: tree.
Writes OUT/images/*.png, OUT/annotations/{train,val}.json and OUT/meta.json (the settings and
the source files' digest). Idempotent: a folder made alike is kept; one made otherwise (another
--tile, other source files) or holding anything else is refused, naming what differs; a new one
is built under a temporary name and renamed whole.
"""
import argparse
import hashlib
import json
import os
import os.path as osp
import xml.etree.ElementTree as ET

from PIL import Image

from mejigclu_mm.cli.prepared_folder import build_folder, reuse_or_refuse
from mejigclu_mm.utils.offline_data import offline_data_dir

SPLITS = {
    'train': ['2019_YELL_2_528000_4978000_image_crop2'],
    'val': ['2019_YELL_2_541000_4977000_image_crop', 'OSBS_029', 'SOAP_061'],
}
CATEGORIES = [{'id': 1, 'name': 'tree'}]
FORMAT_VERSION = 1


def read_voc_boxes(xml_path):
    """(x1, y1, x2, y2) of every object in a Pascal VOC annotation file."""
    boxes = []
    for obj in ET.parse(xml_path).getroot().iter('object'):
        box = obj.find('bndbox')
        boxes.append(tuple(float(box.find(k).text) for k in ('xmin', 'ymin', 'xmax', 'ymax')))
    return boxes


def tile_origins(length, tile):
    """Tile starts along one axis: every ``tile`` px, the last one flush with the edge."""
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile, tile))
    return starts + [length - tile]


def boxes_in_tile(boxes, x0, y0, width, height, min_visible=0.5):
    """Boxes clipped to the tile and shifted into its frame, if enough of each is inside."""
    kept = []
    for x1, y1, x2, y2 in boxes:
        cx1, cy1 = max(x1, x0), max(y1, y0)
        cx2, cy2 = min(x2, x0 + width), min(y2, y0 + height)
        if cx2 - cx1 < 2 or cy2 - cy1 < 2:
            continue
        if (cx2 - cx1) * (cy2 - cy1) >= min_visible * (x2 - x1) * (y2 - y1):
            kept.append((cx1 - x0, cy1 - y0, cx2 - x0, cy2 - y0))
    return kept


def build_split(names, src, out, tile):
    """Write the tiles of ``names`` into ``out``/images and return their COCO dict."""
    images, annotations = [], []
    for name in names:
        boxes = read_voc_boxes(osp.join(src, name + '.xml'))
        with Image.open(osp.join(src, name + '.png')) as image:
            image = image.convert('RGB')
            for y0 in tile_origins(image.height, tile):
                for x0 in tile_origins(image.width, tile):
                    crop = image.crop((x0, y0, min(x0 + tile, image.width),
                                       min(y0 + tile, image.height)))
                    file_name = f'{name}_{x0}_{y0}.png'
                    crop.save(osp.join(out, 'images', file_name))
                    image_id = len(images) + 1
                    images.append(dict(id=image_id, file_name=file_name, width=crop.width,
                                       height=crop.height))
                    for x1, y1, x2, y2 in boxes_in_tile(boxes, x0, y0, crop.width, crop.height):
                        annotations.append(dict(
                            id=len(annotations) + 1, image_id=image_id, category_id=1,
                            bbox=[x1, y1, x2 - x1, y2 - y1], area=(x2 - x1) * (y2 - y1),
                            iscrowd=0))
    return dict(images=images, annotations=annotations, categories=CATEGORIES)


def source_digest(src):
    """SHA-256 over the source images and annotations, in split order."""
    digest = hashlib.sha256()
    for names in SPLITS.values():
        for name in names:
            for suffix in ('.xml', '.png'):
                path = osp.join(src, name + suffix)
                if not osp.isfile(path):
                    raise SystemExit(f'prepare_deepforest: {path} not found (deepforest\'s '
                                     'data files are extracted by tools/setup_env.sh)')
                with open(path, 'rb') as file:
                    digest.update(file.read())
    return digest.hexdigest()


def prepare(out, tile=400, src=None):
    """Write the data set into ``out`` unless it is there, made alike; returns {split: (tiles,
    boxes)}. A folder made otherwise (another --tile, other source files) or holding something
    else is refused by name (``mejigclu_mm.cli.prepared_folder``); a new one is built under a
    temporary name and renamed whole."""
    if tile < 32:
        raise SystemExit(f'prepare_deepforest: --tile {tile}: need at least 32 px')
    src = str(src or offline_data_dir('deepforest'))
    wanted = dict(format_version=FORMAT_VERSION, tile=tile, source_sha256=source_digest(src))
    meta = reuse_or_refuse(out, wanted, 'prepare_deepforest', kind='tiles')

    def build(tmp):
        os.makedirs(osp.join(tmp, 'images'))
        os.makedirs(osp.join(tmp, 'annotations'))
        counts = {}
        for split, names in SPLITS.items():
            coco = build_split(names, src, tmp, tile)
            with open(osp.join(tmp, 'annotations', f'{split}.json'), 'w') as file:
                json.dump(coco, file)
            counts[split] = [len(coco['images']), len(coco['annotations'])]
        return dict(settings=wanted, counts=counts, source=src)

    made = meta is None
    if made:
        meta = build_folder(out, build)
    return {split: tuple(count) + (made, ) for split, count in meta['counts'].items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default='data/deepforest')
    parser.add_argument('--tile', type=int, default=400)
    args = parser.parse_args(argv)
    for split, (tiles, boxes, made) in prepare(args.out, args.tile).items():
        state = 'made' if made else 'already there, kept'
        print(f'{split}: {tiles} tiles, {boxes} tree boxes {state}: '
              f'{args.out}/annotations/{split}.json')


if __name__ == '__main__':
    main()
