"""Convert a checkpoint's ResNet backbone for mmdet / mmpretrain, torchvision, timm or detectron2.

Usage:
    python tools/convert_weights.py SRC DST --to {mmdet,torchvision,timm,detectron2} [--prefix P]
        [--force] [--allow-nonstandard-stem]

SRC may be any of the field's layouts: our pretraining checkpoints and converted files,
mmpretrain / mmselfsup / mmdet checkpoints, the official JigClu and MoCo training scripts' files,
torchvision state dicts and detectron2 pickles (``mejigclu_mm.transfer.resolve_backbone``). It
is read with the safe loader (no code from the file runs); a file that is no checkpoint (a Git
LFS pointer, a web page, an image) is named for what it is. The backbone is found in SRC, or
taken under ``--prefix`` (the keys as stored in SRC, e.g. ``module.encoder.``), and must be a
complete ResNet with finite weights; otherwise the tool exits with status 1 and says why. It
prints the converted and the dropped tensors.

``--to detectron2`` also prints the detectron2 settings the weights need and writes them beside
DST as a YAML config fragment (DST with the suffix ``.yaml``). ``--to timm`` prints the
``timm.create_model`` call that loads DST.

No output is ever SRC (converting in place would leave the backbone alone in the training
checkpoint), DST has the suffix its reader takes (``.pkl`` for detectron2, whose checkpointer
reads any other name with torch.load; ``.pth`` / ``.pt`` / ``.bin`` / ``.ckpt`` otherwise), and
an existing output is only replaced with ``--force``; all are checked before SRC is read, and
each is written whole or not at all (``mejigclu_mm.runtime.output_guard``). torchvision's,
timm's and detectron2's ResNets have a 7 x 7 stem: a backbone with another stem (the
small-image ``ResNet_CIFAR``) is refused for them unless ``--allow-nonstandard-stem`` is given.
"""
import argparse
import os
import pickle
import sys
from collections import Counter
from typing import List, Optional, Sequence, Tuple

import torch

from mejigclu_mm.runtime import NonFiniteCheckpointError, NotACheckpointError
from mejigclu_mm.runtime.atomic_write import atomic_write
from mejigclu_mm.runtime.known_warnings import quiet_known_warnings
from mejigclu_mm.runtime.output_guard import refusal
from mejigclu_mm.transfer import (BackboneError, CheckpointLayoutError, check_complete_resnet,
                                  check_standard_stem, detectron2_command_line, detectron2_settings,
                                  detectron2_settings_yaml, read_checkpoint_weights,
                                  resolve_backbone, to_detectron2, to_mmdet, to_timm,
                                  to_torchvision)
from mejigclu_mm.transfer.checkpoint_layouts import EMA_CHOICES

WRITERS = {'mmdet': to_mmdet, 'torchvision': to_torchvision, 'timm': to_timm,
           'detectron2': to_detectron2}
STANDARD_STEM_FORMATS = ('torchvision', 'timm', 'detectron2')
AUTO_PREFIX = 'auto'


TOOL = 'tools/convert_weights.py'
# The suffix each library's reader expects: detectron2's DetectionCheckpointer unpickles a
# ``.pkl`` and hands any other name to torch.load, which cannot read the pickle we write.
TORCH_SUFFIXES = ('.pth', '.pt', '.bin', '.ckpt')
DST_SUFFIXES = {'mmdet': TORCH_SUFFIXES, 'torchvision': TORCH_SUFFIXES, 'timm': TORCH_SUFFIXES,
                'detectron2': ('.pkl', )}
SETTINGS_SUFFIXES = ('.yaml', )


class DestinationError(ValueError):
    """An output would replace SRC, has a suffix its reader does not take, or exists (without
    --force)."""


def settings_path(dst: str) -> str:
    """Where ``--to detectron2`` writes its settings: DST with the suffix ``.yaml``."""
    return os.path.splitext(dst)[0] + '.yaml'


def outputs(dst: str, to: str) -> List[Tuple[str, str, Tuple[str, ...]]]:
    """Every file the conversion writes: (path, what it is, the suffixes it may have)."""
    files = [(dst, 'DST', DST_SUFFIXES[to])]
    if to == 'detectron2':
        files.append((settings_path(dst), 'settings', SETTINGS_SUFFIXES))
    return files


def check_destination(src: str, dst: str, force: bool = False, name: str = 'DST',
                      suffixes: Sequence[str] = TORCH_SUFFIXES) -> None:
    """Refuse an output that is SRC (always), has another suffix than ``suffixes``, or exists
    (unless ``force``), through the tools' one output guard
    (:func:`mejigclu_mm.runtime.output_guard.refusal`). Weights carry no mark of the tool that wrote
    them (their readers take the file as it is), so an existing file is replaced only with
    ``--force``.

    Args:
        src (str): The checkpoint to convert.
        dst (str): An output file.
        force (bool): Replace an existing output. Defaults to False.
        name (str): What the output is, for the message. Defaults to 'DST'.
        suffixes (Sequence[str]): The suffixes the output may have.

    Raises:
        DestinationError: naming the file and why.
    """
    message = refusal(dst, TOOL, suffixes, inputs=[src], option=name, force=force,
                      describe=lambda _: 'may be any file (weights carry no mark of what '
                      'wrote them)')
    if message:
        raise DestinationError(message)


def convert(src: str, dst: str, to: str, prefix: str = AUTO_PREFIX,
            allow_nonstandard_stem: bool = False, ema: Optional[str] = None) -> dict:
    """Convert ``src`` into ``dst`` (and its settings for detectron2); returns the written object.

    Args:
        src (str): The checkpoint.
        dst (str): The output file (checked by :func:`check_destination` beforehand).
        to (str): 'mmdet', 'torchvision', 'timm' or 'detectron2'.
        prefix (str): Where the backbone stands in ``src``, the keys as stored; 'auto' finds
            it. Defaults to 'auto'.
        allow_nonstandard_stem (bool): Write torchvision / timm / detectron2 files from a backbone
            whose stem they do not have (with a warning). Defaults to False.
        ema (str, optional): For a checkpoint of mmengine's EMAHook: 'averaged' (the EMA
            weights, the default) or 'trained' (those trained by gradient).
    """
    weights = read_checkpoint_weights(src, ema=ema)
    backbone = resolve_backbone(weights, None if prefix == AUTO_PREFIX else prefix)
    state = backbone.state
    depth = check_complete_resnet(state)
    if to in STANDARD_STEM_FORMATS:
        try:
            check_standard_stem(state)
        except BackboneError as error:
            if not allow_nonstandard_stem:
                raise
            print(f'convert_weights: warning: {src}: {error}', file=sys.stderr)
    print(f'{src}: ResNet-{depth} backbone under "{backbone.prefix}", {len(state)} tensors'
          + (f' ({backbone.note})' if backbone.note else ''))
    for stage, count in Counter(k.split('.')[0] for k in state).items():
        print(f'  converted {stage}: {count} tensors')
    for group, count in backbone.dropped.items():
        print(f'  dropped {group}.*: {count} tensors (not the backbone)')
    if backbone.others:
        print(f'  dropped other entries: {", ".join(backbone.others)}')
    out = WRITERS[to](state)
    with atomic_write(dst, 'wb') as file:
        if to == 'detectron2':
            pickle.dump(out, file)
        else:
            torch.save(out, file)
    print(f'wrote {dst} ({to})')
    if to == 'timm':
        print(f'load it with timm (no classifier in it; num_classes=0 builds the model without '
              f'one):\n  timm.create_model({f"resnet{depth}"!r}, num_classes=0, '
              f'checkpoint_path={dst!r})')
    if to == 'detectron2':
        settings = detectron2_settings(os.path.abspath(dst), depth)
        yaml_path = settings_path(dst)
        with atomic_write(yaml_path) as file:
            file.write(detectron2_settings_yaml(settings))
        print(f'detectron2 needs these settings for these weights (written to {yaml_path}; '
              f'with its defaults they load and train quietly worse):')
        for key, value in settings.items():
            print(f'  {key}: {value}')
        print(f'merge them into your config (cfg.merge_from_file("{yaml_path}")) or add them to '
              f'train_net.py\'s command line:\n  {detectron2_command_line(settings)}')
    return out


def main(argv=None):
    quiet_known_warnings()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='checkpoint (pretraining, mmpretrain / mmdet, official '
                        'JigClu / MoCo, torchvision, detectron2 .pkl)')
    parser.add_argument('dst', help='output file')
    parser.add_argument('--to', choices=sorted(WRITERS), required=True)
    parser.add_argument('--prefix', default=AUTO_PREFIX,
                        help='where the backbone stands in SRC, the keys as stored (e.g. '
                        '"backbone.", "module.encoder.", "" for the top level); "auto" '
                        '(default) finds it')
    parser.add_argument('--force', action='store_true', help='overwrite existing outputs')
    parser.add_argument('--ema', choices=EMA_CHOICES,
                        help='for a checkpoint of mmengine\'s EMAHook (with ema_state_dict): '
                        '"averaged" (default: the EMA weights, which the hook swaps into '
                        'state_dict) or "trained" (the weights trained by gradient)')
    parser.add_argument('--allow-nonstandard-stem', action='store_true',
                        help='write --to torchvision / timm / detectron2 files from a backbone '
                        'whose stem is not 7 x 7 (e.g. ResNet_CIFAR); the model must be built with '
                        'that stem to load them')
    args = parser.parse_args(argv)
    try:
        for path, name, suffixes in outputs(args.dst, args.to):
            check_destination(args.src, path, args.force, name, suffixes)
    except DestinationError as error:
        print(error, file=sys.stderr)
        return 1
    try:
        convert(args.src, args.dst, args.to, args.prefix, args.allow_nonstandard_stem, args.ema)
    except (BackboneError, CheckpointLayoutError, NonFiniteCheckpointError, NotACheckpointError,
            FileNotFoundError, EOFError, pickle.UnpicklingError) as error:
        message = str(error)
        named = message if args.src in message else f'{args.src}: {message}'
        print(f'convert_weights: {named}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
