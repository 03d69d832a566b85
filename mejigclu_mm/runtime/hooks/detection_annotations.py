"""What mmdet keeps of a COCO or Pascal VOC annotation set, and why it drops the rest.

mmdet 3.3.0's rules, read from its code: ``CocoDataset`` takes the categories whose names are
in ``metainfo.classes`` and numbers them in the file's category order; it drops a box that
has ``ignore``, lies outside its image, or has ``w < 1``, ``h < 1`` or ``area <= 0``, and a
box of another category; crowd boxes become ignored regions; for training with
``filter_cfg.filter_empty_gt`` it drops the images that have no annotation of the classes (an
image whose boxes were all dropped stays, as background), and with ``min_size`` the smaller
images. ``XMLDataset`` (VOC) drops objects whose name is not a class, marks ``difficult``
ones and, with ``bbox_min_size``, small ones as ignored, and keeps boxes of no area.
"""
import collections
import json
import xml.etree.ElementTree as ET
from typing import Dict, List, Optional, Sequence, Union

from mejigclu_mm.runtime.hooks.transfer_data import DataCheck, closest, shorten

# The share of the boxes of the config's classes that may be dropped before the run stops
MAX_DROPPED = 0.5


def _counted(counter: Dict[str, int]) -> str:
    return shorten([f'{name} ({count})' for name, count in
                    sorted(counter.items(), key=lambda item: (-item[1], item[0]))])


def _load_coco(path: str) -> dict:
    try:
        with open(path) as file:
            content = json.load(file)
    except (OSError, ValueError) as error:
        raise ValueError(f'{path} cannot be read as a COCO annotation file: {error}') from None
    missing = [key for key in ('images', 'annotations', 'categories')
               if not isinstance(content.get(key) if isinstance(content, dict) else None, list)]
    if missing:
        raise ValueError(f'{path} is no COCO annotation file: it has no list '
                         f'{", ".join(repr(k) for k in missing)}')
    return content


def _check_categories(check: DataCheck, categories: List[dict], classes: Sequence[str]) -> None:
    """Names of the config against the file's categories: missing, repeated, reordered."""
    names = [str(category.get('name')) for category in categories]
    repeated = sorted({name for name in names if names.count(name) > 1 and name in classes})
    if repeated:
        check.problems.append(f'the categories {repeated} appear more than once in the file: '
                              'mmdet would give them two labels each')
    missing = [name for name in classes if name not in names]
    unclaimed = [name for name in names if name not in classes] or names
    if missing:
        check.problems.append(
            f'the classes {", ".join(f"{n!r}{closest(n, unclaimed)}" for n in missing)} of '
            f'metainfo.classes are no category of the file, whose categories are '
            f'{shorten([repr(n) for n in names], 20)}: mmdet numbers the classes it finds in '
            'the file, so the labels after a missing class would name other classes. Set '
            'metainfo.classes to the category names of the file')
        return
    found = [name for name in names if name in classes]
    if found != list(classes):
        check.problems.append(
            f'the file lists the categories in another order ({shorten(found, 20)}) than '
            f'metainfo.classes ({shorten(list(classes), 20)}): mmdet numbers them in the '
            "file's order, so every label would carry another class's name. Order "
            'metainfo.classes as the file does')


def check_coco(annotations: Union[str, dict], classes: Sequence[str], training: bool = True,
               filter_cfg: Optional[dict] = None, source: Optional[str] = None,
               max_dropped: float = MAX_DROPPED) -> DataCheck:
    """What mmdet's ``CocoDataset`` keeps of a COCO file for ``classes``, and the problems.

    Args:
        annotations (str | dict): The file, or its content (e.g. CocoMetric's).
        classes (Sequence[str]): ``metainfo.classes``.
        training (bool): A training set (mmdet filters its images; a class that loses all its
            boxes stops the run). Defaults to True.
        filter_cfg (dict, optional): The dataset's ``filter_cfg``.
        source (str, optional): How to name it; defaults to the path.
        max_dropped (float): The share of the boxes of the classes that may be dropped as
            invalid before the run stops. Defaults to :data:`MAX_DROPPED`.

    Returns:
        DataCheck: Notes and problems.

    Raises:
        ValueError: The file is no COCO annotation file (named).
    """
    content = _load_coco(annotations) if isinstance(annotations, str) else annotations
    check = DataCheck(source or str(annotations))
    categories = [c for c in content['categories'] if isinstance(c, dict)]
    _check_categories(check, categories, classes)
    name_of = {category.get('id'): str(category.get('name')) for category in categories}
    images = {image.get('id'): image for image in content['images'] if isinstance(image, dict)}
    kept = collections.Counter()  # class -> boxes kept
    boxes = collections.Counter()  # class -> boxes of the file
    others = collections.Counter()  # category not in classes -> boxes
    dropped: Dict[str, List[str]] = collections.defaultdict(list)  # reason -> examples
    crowd = 0
    images_with_class, images_with_box = set(), set()
    for ann in content['annotations']:
        name = name_of.get(ann.get('category_id'), f'category id {ann.get("category_id")}')
        image = images.get(ann.get('image_id'))
        if name not in classes:
            others[name] += 1
            continue
        boxes[name] += 1
        images_with_class.add(ann.get('image_id'))
        reason = _dropped_box(ann, image)
        if reason:
            dropped[reason].append(f'annotation {ann.get("id")}: bbox {ann.get("bbox")}'
                                   + (f' in a {image.get("width")} x {image.get("height")} '
                                      'image' if image else ''))
            continue
        kept[name] += 1
        images_with_box.add(ann.get('image_id'))
        crowd += bool(ann.get('iscrowd', False))
    _box_notes(check, len(images), boxes, kept, others, dropped, crowd)
    _box_problems(check, classes, boxes, kept, dropped, training, max_dropped,
                  'the config\'s classes')
    filter_cfg = filter_cfg or {}
    if training:
        _image_notes(check, images, images_with_class, images_with_box, filter_cfg)
    return check


def _dropped_box(ann: dict, image: Optional[dict]) -> Optional[str]:
    """Why mmdet's CocoDataset drops a box of one of the classes, or None."""
    if image is None:
        return 'of an image the file does not list'
    if ann.get('ignore', False):
        return 'marked "ignore"'
    bbox = ann.get('bbox')
    if not (isinstance(bbox, (list, tuple)) and len(bbox) == 4
            and all(isinstance(v, (int, float)) for v in bbox)):
        return 'whose bbox is not [x, y, w, h]'
    x1, y1, w, h = bbox
    inter_w = max(0, min(x1 + w, image.get('width', 0)) - max(x1, 0))
    inter_h = max(0, min(y1 + h, image.get('height', 0)) - max(y1, 0))
    if inter_w * inter_h == 0:
        return 'outside the image (or of no area in it)'
    if ann.get('area', 0) <= 0 or w < 1 or h < 1:
        return 'of zero or negative size (w or h under 1 px, or area <= 0)'
    return None


def _box_notes(check: DataCheck, num_images: int, boxes, kept, others, dropped,
               ignored: int, ignored_what: str = 'crowd boxes kept as ignored regions') -> None:
    total = sum(boxes.values()) + sum(others.values())
    check.note(f'{num_images} images, {total} boxes; kept {sum(kept.values())} boxes of '
               f'{len(kept)} classes')
    for reason, examples in sorted(dropped.items()):
        check.note(f'dropped {len(examples)} boxes {reason} (e.g. {examples[0]})', True)
    if others:
        check.note(f'dropped {sum(others.values())} boxes of categories metainfo.classes does '
                   f'not name: {_counted(others)}', True)
    if ignored:
        check.note(f'{ignored} {ignored_what}', True)


def _box_problems(check: DataCheck, classes, boxes, kept, dropped, training: bool,
                  max_dropped: float, of: str) -> None:
    lost = [name for name in classes if boxes[name] and not kept[name]]
    if lost and training:
        check.problems.append(f'the classes {lost} lose every box ({", ".join(sorted(dropped))}'
                              '): nothing would teach them')
    invalid = sum(len(examples) for examples in dropped.values())
    if boxes and invalid > max_dropped * sum(boxes.values()):
        check.problems.append(
            f'{invalid} of the {sum(boxes.values())} boxes of {of} are dropped '
            f'({"; ".join(f"{len(e)} {r}" for r, e in sorted(dropped.items()))}): are the '
            'boxes [x, y, w, h] in pixels of the image (COCO\'s format)?')
    if training and not sum(kept.values()):
        check.problems.append('no box of the classes is left to train on')
    absent = [name for name in classes if not boxes[name]]
    if absent:
        check.note(f'no box at all of the classes {shorten(absent)}', True)


def _image_notes(check: DataCheck, images: dict, with_class: set, with_box: set,
                 filter_cfg: dict) -> None:
    filter_empty = filter_cfg.get('filter_empty_gt', False)
    min_size = filter_cfg.get('min_size', 0) or 0
    kept = [i for i, image in images.items() if (not filter_empty or i in with_class)
            and min(image.get('width', 0), image.get('height', 0)) >= min_size]
    empty = len([i for i in images if i not in with_class])
    small = len([i for i, image in images.items() if (not filter_empty or i in with_class)
                 and min(image.get('width', 0), image.get('height', 0)) < min_size])
    check.note(f'the training set keeps {len(kept)} of the {len(images)} images')
    if filter_empty and empty:
        check.note(f'dropped {empty} images without an annotation of the classes '
                   '(filter_cfg.filter_empty_gt=True)', True)
    elif empty:
        check.note(f'{empty} images without an annotation of the classes, kept as '
                   'background', True)
    if small:
        check.note(f'dropped {small} images smaller than filter_cfg.min_size={min_size}', True)
    background = len([i for i in kept if i in with_class and i not in with_box])
    if background:
        check.note(f'{background} images kept as background: every box of theirs was dropped',
                   True)


def check_voc(xml_files: Sequence[str], classes: Sequence[str], training: bool = True,
              filter_cfg: Optional[dict] = None, source: str = '',
              max_dropped: float = MAX_DROPPED) -> DataCheck:
    """What mmdet's ``XMLDataset`` (VOC) keeps of the annotation files, and the problems.

    Args:
        xml_files (Sequence[str]): One Pascal VOC XML file per image.
        classes (Sequence[str]): ``metainfo.classes``.
        training (bool): A training set. Defaults to True.
        filter_cfg (dict, optional): The dataset's ``filter_cfg``.
        source (str): How to name the set.
        max_dropped (float): As for :func:`check_coco`.

    Returns:
        DataCheck: Notes and problems.

    Raises:
        ValueError: A file cannot be read as XML (named).
    """
    check = DataCheck(source)
    filter_cfg = filter_cfg or {}
    min_box = filter_cfg.get('bbox_min_size') if training else None
    boxes, others = collections.Counter(), collections.Counter()
    no_area: List[str] = []
    ignored = empty_images = 0
    for path in xml_files:
        try:
            root = ET.parse(path).getroot()
        except (OSError, ET.ParseError) as error:
            raise ValueError(f'{path} cannot be read as a Pascal VOC annotation: {error}') \
                from None
        found_here = 0
        for obj in root.findall('object'):
            name = (obj.findtext('name') or '').strip() or '(no name)'
            if name not in classes:
                others[name] += 1
                continue
            boxes[name] += 1
            found_here += 1
            box = [float(obj.findtext(f'bndbox/{k}') or 0)
                   for k in ('xmin', 'ymin', 'xmax', 'ymax')]
            small = min_box is not None and min(box[2] - box[0], box[3] - box[1]) < min_box
            ignored += int(obj.findtext('difficult') or 0) > 0 or small
            if box[2] <= box[0] or box[3] <= box[1]:
                no_area.append(f'{path}: {name} {box}')
        empty_images += not found_here
    _box_notes(check, len(xml_files), boxes, boxes, others, {}, ignored,
               'difficult (or smaller than filter_cfg.bbox_min_size) boxes kept as ignored '
               'regions')
    unseen = [name for name in classes if not boxes[name]]
    if not boxes:
        check.problems.append(f'no object of the files is of a class of metainfo.classes '
                              f'(their names: {_counted(others) or "none"})')
    elif unseen and sum(others.values()) > max_dropped * (sum(others.values())
                                                          + sum(boxes.values())):
        check.problems.append(  # a class of the config under another name in the files?
            f'most boxes ({sum(others.values())}) are of names metainfo.classes does not have '
            f'({_counted(others)}) while its classes {shorten(unseen)} have none')
    if unseen:
        check.note(f'no box at all of the classes {shorten(unseen)}', True)
    if no_area:
        check.problems.append(f'{len(no_area)} boxes have no area (xmax <= xmin or ymax <= '
                              f'ymin; e.g. {no_area[0]}) and mmdet would train on them')
    if training and filter_cfg.get('filter_empty_gt', False) and empty_images:
        check.note(f'dropped {empty_images} images without an object of the classes '
                   '(filter_cfg.filter_empty_gt=True)', True)
    return check
