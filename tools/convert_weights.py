"""Convert a pretraining checkpoint's backbone for mmdet / mmpretrain, torchvision or detectron2.

Usage:
    python tools/convert_weights.py SRC DST --to {mmdet,torchvision,detectron2} [--prefix P]

SRC is read with torch's safe unpickler (no code from the file runs). The backbone (keys under
``--prefix``, default ``backbone.``) must be a complete ResNet; otherwise the tool exits with
status 1 and says what is missing. It prints the converted and the dropped keys.
"""
import argparse
import os
import pickle
import sys
from collections import Counter

import torch

from mejigclu_mm.converters import (BackboneError, backbone_state_dict, check_complete_resnet,
                                    to_detectron2, to_mmdet, to_torchvision)
from mejigclu_mm.utils import load_checkpoint_file

WRITERS = {'mmdet': to_mmdet, 'torchvision': to_torchvision, 'detectron2': to_detectron2}


def convert(src: str, dst: str, to: str, prefix: str = 'backbone.') -> dict:
    """Convert ``src`` into ``dst``; returns the written object."""
    checkpoint = load_checkpoint_file(src)
    state = backbone_state_dict(checkpoint, prefix)
    depth = check_complete_resnet(state)
    all_keys = checkpoint.get('state_dict', checkpoint)
    dropped = Counter(k.split('.')[0] for k in all_keys if not k.startswith(prefix))
    stages = Counter(k.split('.')[0] for k in state)
    print(f'{src}: ResNet-{depth} backbone, {len(state)} tensors')
    for stage, count in stages.items():
        print(f'  converted {stage}: {count} tensors')
    for top, count in dropped.items():
        print(f'  dropped {top}.*: {count} tensors (not backbone)')
    out = WRITERS[to](state)
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    if to == 'detectron2':
        with open(dst, 'wb') as file:
            pickle.dump(out, file)
    else:
        torch.save(out, dst)
    print(f'wrote {dst} ({to})')
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='pretraining checkpoint (tools/train.py output)')
    parser.add_argument('dst', help='output file')
    parser.add_argument('--to', choices=sorted(WRITERS), required=True)
    parser.add_argument('--prefix', default='backbone.', help='backbone key prefix in SRC')
    args = parser.parse_args(argv)
    try:
        convert(args.src, args.dst, args.to, args.prefix)
    except (BackboneError, FileNotFoundError, pickle.UnpicklingError) as error:
        print(f'convert_weights: {args.src}: {error}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
