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
Writes OUT/images/*.png and OUT/annotations/{train,val}.json. Idempotent.
"""
import argparse
import json
import os
import os.path as osp
import xml.etree.ElementTree as ET

from PIL import Image

from mejigclu_mm.utils.offline_data import offline_data_dir

SPLITS = {
    'train': ['2019_YELL_2_528000_4978000_image_crop2'],
    'val': ['2019_YELL_2_541000_4977000_image_crop', 'OSBS_029', 'SOAP_061'],
}
CATEGORIES = [{'id': 1, 'name': 'tree'}]


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
    """Write the tiles of ``names`` and return their COCO dict."""
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
                    if not osp.isfile(osp.join(out, 'images', file_name)):
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


def prepare(out, tile=400, src=None):
    """Write the data set into ``out``; returns {split: (tiles, boxes)}."""
    src = str(src or offline_data_dir('deepforest'))
    os.makedirs(osp.join(out, 'images'), exist_ok=True)
    os.makedirs(osp.join(out, 'annotations'), exist_ok=True)
    counts = {}
    for split, names in SPLITS.items():
        coco = build_split(names, src, out, tile)
        with open(osp.join(out, 'annotations', f'{split}.json'), 'w') as file:
            json.dump(coco, file)
        counts[split] = (len(coco['images']), len(coco['annotations']))
    return counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default='data/deepforest')
    parser.add_argument('--tile', type=int, default=400)
    args = parser.parse_args(argv)
    for split, (tiles, boxes) in prepare(args.out, args.tile).items():
        print(f'{split}: {tiles} tiles, {boxes} tree boxes -> {args.out}/annotations/{split}.json')


if __name__ == '__main__':
    main()
