"""Write the 1 % / 10 % ImageNet label subsets that the semi-supervised configs read.

Usage:
    python tools/data/make_semi_subsets.py IMAGENET_ROOT [--percent 1 10] [--seed 0] [--force]
    python tools/data/make_semi_subsets.py IMAGENET_ROOT --from-simclr 1percent.txt 10percent.txt

IMAGENET_ROOT is in mmpretrain's ImageNet layout (``train/<wnid>/<file>``, optionally
``meta/train.txt``). The first form draws, for every percent P, a class-stratified subset of
the training set: each class keeps P % of its images (rounded half up, at least one), drawn
with a seeded permutation per class (the same for every P, so the 1 % subset lies inside the
10 % one), and writes ``meta/train_<P>percent.txt``. The second form converts SimCLR's
published lists (one file name per line, e.g. ``n01440764_10026.JPEG``; mmpretrain's ImageNet
dataset cannot read them: it expects ``<path> <label>`` per line) into
``meta/train_<name>.txt`` (``1percent.txt`` -> ``meta/train_1percent.txt``), checking that
every listed image is in the training set.

The training set and its labels come from ``meta/train.txt`` when it exists (lines
``<wnid>/<file> <label>``), else from the folder tree (labels = the sorted wnid folders, the
order mmpretrain's ImageNet classes follow). Output lines are ``<wnid>/<file> <label>``, in the
order of the training list, as configs/mejigclu/benchmarks/resnet50_4xb64-semi-{1,10}pct-*.py read them
(``train_dataloader.dataset.ann_file``). An existing list is never replaced without
``--force``; files are written atomically.
"""
import argparse
import os
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Sequence, Tuple

import numpy as np

from mejigclu_mm.runtime.atomic_write import atomic_write
from mejigclu_mm.runtime.output_guard import refusal

TOOL = 'tools/data/make_semi_subsets.py'

# What mmpretrain's ImageNet dataset loads when it scans folders (mmpretrain.datasets).
IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp')

Sample = Tuple[str, int]  # (path relative to train/, label)


def read_train_list(path: str) -> List[Sample]:
    """``meta/train.txt``: ``<path> <label>`` per line; ValueError naming a bad line."""
    samples = []
    with open(path) as file:
        for number, line in enumerate(file, 1):
            if not line.strip():
                continue
            parts = line.strip().rsplit(' ', 1)
            if len(parts) != 2 or not parts[1].isdigit():
                raise ValueError(f'{path}:{number}: expected "<path> <label>", got '
                                 f'{line.strip()!r}')
            samples.append((parts[0], int(parts[1])))
    if not samples:
        raise ValueError(f'{path} lists no images')
    return samples


def scan_train_folder(train_dir: str) -> Tuple[List[Sample], int]:
    """Images of ``train/<class>/``, labels by sorted class folder; and the files skipped."""
    if not osp.isdir(train_dir):
        raise ValueError(f'{train_dir} is not a folder, and there is no meta/train.txt')
    classes = sorted(d for d in os.listdir(train_dir) if osp.isdir(osp.join(train_dir, d)))
    if not classes:
        raise ValueError(f'{train_dir} has no class folders (train/<wnid>/<image>)')
    samples, skipped = [], 0
    for label, name in enumerate(classes):
        for folder, subfolders, files in os.walk(osp.join(train_dir, name)):
            subfolders.sort()
            for file in sorted(files):
                rel = osp.relpath(osp.join(folder, file), train_dir).replace(os.sep, '/')
                if file.lower().endswith(IMG_EXTENSIONS):
                    samples.append((rel, label))
                else:
                    skipped += 1
    return samples, skipped


def training_set(root: str) -> Tuple[List[Sample], str]:
    """The training samples of ``root`` and where they were read from."""
    meta = osp.join(root, 'meta', 'train.txt')
    if osp.isfile(meta):
        return read_train_list(meta), meta
    samples, skipped = scan_train_folder(osp.join(root, 'train'))
    note = f' ({skipped} files without an image extension left out)' if skipped else ''
    return samples, f'the folders of {osp.join(root, "train")}{note}'


def stratified_subsets(samples: Sequence[Sample], percents: Sequence[float],
                       seed: int) -> Dict[float, List[Sample]]:
    """For every percent, P % of each class (half up, at least 1), nested, in input order.

    Args:
        samples (Sequence[tuple[str, int]]): (path, label) of the training set.
        percents (Sequence[float]): Percentages in (0, 100].
        seed (int): Seed of the per-class permutations.

    Returns:
        dict[float, list]: percent -> its samples, in the order of ``samples``.
    """
    by_class = defaultdict(list)
    for index, (_, label) in enumerate(samples):
        by_class[label].append(index)
    rng = np.random.default_rng(seed)
    order = {label: rng.permutation(by_class[label]) for label in sorted(by_class)}
    subsets = {}
    for percent in percents:
        chosen = []
        for label, permuted in order.items():
            count = max(1, int(np.floor(len(permuted) * percent / 100 + 0.5)))
            chosen += permuted[:count].tolist()
        subsets[percent] = [samples[i] for i in sorted(chosen)]
    return subsets


def convert_simclr_list(path: str, samples: Sequence[Sample]) -> List[Sample]:
    """SimCLR's list (a file name per line) as (``<wnid>/<file>``, label) samples.

    Lines already in ``<path> <label>`` form are kept when they agree with the training set.

    Raises:
        ValueError: a listed image is not in the training set, or its class is unknown.
    """
    known = dict(samples)
    converted, missing = [], []
    with open(path) as file:
        for number, line in enumerate(file, 1):
            name = line.strip()
            if not name:
                continue
            rel, _, label = name.rpartition(' ') if ' ' in name else (name, '', '')
            if '/' not in rel:  # SimCLR: n01440764_10026.JPEG lies in train/n01440764/
                rel = f'{rel.split("_")[0]}/{rel}'
            if rel not in known:
                missing.append(name)
            elif label and label != str(known[rel]):
                raise ValueError(f'{path}:{number}: {rel} has label {label}, the training set '
                                 f'says {known[rel]}')
            else:
                converted.append((rel, known[rel]))
    if missing:
        raise ValueError(f'{path}: {len(missing)} of {len(missing) + len(converted)} listed '
                         f'images are not in the training set (e.g. {", ".join(missing[:3])}); '
                         'is IMAGENET_ROOT the full ImageNet-1k training set?')
    if not converted:
        raise ValueError(f'{path} lists no images')
    return converted


def output_path(root: str, name: str) -> str:
    return osp.join(root, 'meta', f'train_{name}.txt')


def write_list(path: str, samples: Sequence[Sample]) -> None:
    """``<path> <label>`` lines, atomically (checked beforehand by :func:`check_outputs`)."""
    with atomic_write(path) as file:
        file.writelines(f'{rel} {label}\n' for rel, label in samples)


def check_outputs(paths: Sequence[str], inputs: Sequence[str], force: bool) -> None:
    """Refuse the lists before any is written, through the tools' one output guard: an input
    (a SimCLR list, ``meta/train.txt``) never, an existing list only with ``force`` (lists carry
    no mark of what wrote them: mmpretrain reads every line)."""
    for path in paths:
        message = refusal(path, TOOL, ('.txt', ), inputs, option='list', force=force,
                          describe=lambda _: 'may be any list (lists carry no mark of what '
                          'wrote them)')
        if message:
            raise SystemExit(message)


def percent_name(percent: float) -> str:
    return f'{percent:g}percent'


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('root', metavar='IMAGENET_ROOT', help='ImageNet in mmpretrain layout')
    parser.add_argument('--percent', type=float, nargs='+', default=None,
                        help='percentages of the training set to draw (default: 1 10)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the draw (default: 0)')
    parser.add_argument('--from-simclr', nargs='+', metavar='LIST',
                        help="convert SimCLR's lists (one file name per line) instead of drawing")
    parser.add_argument('--force', action='store_true', help='replace existing lists')
    args = parser.parse_args(argv)
    if args.from_simclr and args.percent:
        parser.error('--from-simclr converts the given lists; --percent draws new ones: '
                     'give one of them')
    percents = args.percent or [1., 10.]
    if any(not 0 < p <= 100 for p in percents):
        parser.error(f'--percent values must be in (0, 100], got {percents}')
    try:
        samples, source = training_set(args.root)
        if args.from_simclr:
            outputs = []
            for path in args.from_simclr:
                name = osp.splitext(osp.basename(path))[0]
                outputs.append((output_path(args.root, name), convert_simclr_list(path, samples)))
        else:
            subsets = stratified_subsets(samples, percents, args.seed)
            outputs = [(output_path(args.root, percent_name(p)), subsets[p]) for p in percents]
        check_outputs([path for path, _ in outputs],  # before anything is written
                      [*(args.from_simclr or []), osp.join(args.root, 'meta', 'train.txt')],
                      args.force)
        for path, chosen in outputs:
            write_list(path, chosen)
            classes = len({label for _, label in chosen})
            print(f'wrote {path}: {len(chosen)} of {len(samples)} training images, '
                  f'{classes} classes')
    except (ValueError, OSError) as error:
        raise SystemExit(f'make_semi_subsets: {error}') from None
    print(f'training set read from {source}')
    return [path for path, _ in outputs]


if __name__ == '__main__':
    main()
