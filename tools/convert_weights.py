"""Convert a pretraining checkpoint's backbone for mmdet / mmpretrain, torchvision or detectron2.

Usage:
    python tools/convert_weights.py SRC DST --to {mmdet,torchvision,detectron2} [--prefix P]
        [--force] [--allow-nonstandard-stem]

SRC is read with torch's safe unpickler (no code from the file runs). The backbone (keys under
``--prefix``, default ``backbone.``) must be a complete ResNet; otherwise the tool exits with
status 1 and says what is missing. It prints the converted and the dropped keys.

DST is never SRC (converting in place would leave the backbone alone in the training checkpoint)
and an existing DST is only replaced with ``--force``; DST is written whole or not at all.
torchvision's and detectron2's ResNets have a 7 x 7 stem: a backbone with another stem (the
small-image ``ResNet_CIFAR``) is refused for them unless ``--allow-nonstandard-stem`` is given.
"""
import argparse
import os
import pickle
import sys
from collections import Counter

import torch

from mejigclu_mm.converters import (BackboneError, backbone_state_dict, check_complete_resnet,
                                    check_standard_stem, to_detectron2, to_mmdet, to_torchvision)
from mejigclu_mm.utils import load_checkpoint_file

WRITERS = {'mmdet': to_mmdet, 'torchvision': to_torchvision, 'detectron2': to_detectron2}
STANDARD_STEM_FORMATS = ('torchvision', 'detectron2')


class DestinationError(ValueError):
    """DST would overwrite SRC, or an existing file without --force."""


def check_destination(src: str, dst: str, force: bool = False) -> None:
    """Refuse a DST that is SRC (always) or that exists (unless ``force``).

    Args:
        src (str): The checkpoint to convert.
        dst (str): The output file.
        force (bool): Replace an existing DST. Defaults to False.
    """
    same = os.path.realpath(src) == os.path.realpath(dst) or (
        os.path.exists(src) and os.path.exists(dst) and os.path.samefile(src, dst))
    if same:
        raise DestinationError(
            f'DST {dst} is SRC {src}: converting in place would replace the checkpoint with its '
            f'backbone alone; give another DST (even --force does not allow this)')
    if os.path.isdir(dst):
        raise DestinationError(f'DST {dst} is a directory; give a file name')
    if os.path.exists(dst) and not force:
        raise DestinationError(f'DST {dst} exists; pass --force to overwrite it, or give another '
                               f'DST')


def _write(out, dst: str, to: str) -> None:
    """Write ``out`` to a temporary file beside ``dst``, then move it in place."""
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    part = f'{dst}.part'
    try:
        if to == 'detectron2':
            with open(part, 'wb') as file:
                pickle.dump(out, file)
        else:
            torch.save(out, part)
        os.replace(part, dst)
    finally:
        if os.path.exists(part):
            os.remove(part)


def convert(src: str, dst: str, to: str, prefix: str = 'backbone.',
            allow_nonstandard_stem: bool = False) -> dict:
    """Convert ``src`` into ``dst``; returns the written object.

    Args:
        src (str): The pretraining checkpoint.
        dst (str): The output file (checked by :func:`check_destination` beforehand).
        to (str): 'mmdet', 'torchvision' or 'detectron2'.
        prefix (str): The backbone's key prefix in ``src``. Defaults to 'backbone.'.
        allow_nonstandard_stem (bool): Write torchvision / detectron2 files from a backbone
            whose stem they do not have (with a warning). Defaults to False.
    """
    checkpoint = load_checkpoint_file(src)
    state = backbone_state_dict(checkpoint, prefix)
    depth = check_complete_resnet(state)
    if to in STANDARD_STEM_FORMATS:
        try:
            check_standard_stem(state)
        except BackboneError as error:
            if not allow_nonstandard_stem:
                raise
            print(f'convert_weights: warning: {src}: {error}', file=sys.stderr)
    all_keys = checkpoint.get('state_dict', checkpoint)
    dropped = Counter(k.split('.')[0] for k in all_keys if not k.startswith(prefix))
    stages = Counter(k.split('.')[0] for k in state)
    print(f'{src}: ResNet-{depth} backbone, {len(state)} tensors')
    for stage, count in stages.items():
        print(f'  converted {stage}: {count} tensors')
    for top, count in dropped.items():
        print(f'  dropped {top}.*: {count} tensors (not backbone)')
    out = WRITERS[to](state)
    _write(out, dst, to)
    print(f'wrote {dst} ({to})')
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='pretraining checkpoint (tools/train.py output)')
    parser.add_argument('dst', help='output file')
    parser.add_argument('--to', choices=sorted(WRITERS), required=True)
    parser.add_argument('--prefix', default='backbone.', help='backbone key prefix in SRC')
    parser.add_argument('--force', action='store_true', help='overwrite an existing DST')
    parser.add_argument('--allow-nonstandard-stem', action='store_true',
                        help='write --to torchvision / detectron2 files from a backbone whose '
                        'stem is not 7 x 7 (e.g. ResNet_CIFAR); the model must be built with '
                        'that stem to load them')
    args = parser.parse_args(argv)
    try:
        check_destination(args.src, args.dst, args.force)
    except DestinationError as error:
        print(f'convert_weights: {error}', file=sys.stderr)
        return 1
    try:
        convert(args.src, args.dst, args.to, args.prefix, args.allow_nonstandard_stem)
    except (BackboneError, FileNotFoundError, EOFError, pickle.UnpicklingError) as error:
        print(f'convert_weights: {args.src}: {error}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
