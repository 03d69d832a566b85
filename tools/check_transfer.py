"""Say whether a detector's backbone computes what the checkpoint's pretrained network computed.

Usage:
    python tools/check_transfer.py CONFIG CHECKPOINT [--image IMG] [--prefix P]
        [--pretraining-mean M M M --pretraining-std S S S [--pretraining-bgr]]

CONFIG is an mmdet / mmseg / mmpretrain ``.py`` config (its backbone is initialised from
CHECKPOINT with ``StrictPretrained``) or a detectron2 ``.yaml`` (CHECKPOINT becomes
``MODEL.WEIGHTS``, e.g. the ``.pkl`` of ``convert_weights.py --to detectron2``). One real photo
(``--image``, else an offline ImageNet photo) goes through the detector's own preprocessing and
backbone and through the pretraining's preprocessing (recorded in a pretraining checkpoint; for
other files torchvision's, or the ``--pretraining-*`` values) and the checkpoint's own ResNet;
the last stage both compute alike is compared. Prints the verdict and, when the features differ
beyond float noise, the settings at fault (channel order, mean / std, stride placement, deep
stem, BN statistics); exits 0 when they agree, 1 otherwise (also when the checkpoint does not
load, e.g. a ResNet of another depth). Costs one forward of each network on one image
(docs/transfer.md gives the figure) plus building the detector.
"""
import argparse
import logging
import sys

from mejigclu_mm.transfer.checkpoint_layouts import CheckpointLayoutError
from mejigclu_mm.transfer.strict_pretrained import PretrainedCheckpointError
from mejigclu_mm.transfer.transfer_guard import Preprocessing


def check_mmlab(config: str, checkpoint: str, image, prefix, pretraining):
    """The verdict for an mmdet / mmseg / mmpretrain config."""
    from mmengine.config import Config
    from mmengine.logging import MMLogger
    from mmengine.registry import DefaultScope, init_default_scope

    from mejigclu_mm.transfer.transfer_guard import (check_transfer_model, pipeline_loads_bgr,
                                                     train_pipeline)
    cfg = Config.fromfile(config)
    backbone = cfg.model.backbone
    init_cfg = backbone.get('init_cfg') or {}
    if not isinstance(init_cfg, dict) or init_cfg.get('type') != 'StrictPretrained':
        init_cfg = dict(type='StrictPretrained')
    backbone.init_cfg = dict(init_cfg, checkpoint=checkpoint, prefix=prefix)
    if cfg.get('data_preprocessor') is not None:  # as mmengine's Runner merges it
        cfg.model.setdefault('data_preprocessor', cfg.data_preprocessor)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    scope = DefaultScope.get_current_instance().scope_name
    model = _scope_models(scope).build(cfg.model)
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)  # init_weights lists every parameter at INFO level
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)
    return check_transfer_model(model, checkpoint, image, prefix,
                                pipeline_loads_bgr(train_pipeline(cfg)), pretraining)


def _scope_models(scope: str):
    """The MODELS registry of an OpenMMLab scope ('mmdet', 'mmseg', 'mmpretrain')."""
    import importlib
    return importlib.import_module(f'{scope}.registry').MODELS


def check_detectron2(config: str, checkpoint: str, image, pretraining):
    """The verdict for a detectron2 YAML config."""
    from detectron2.checkpoint import DetectionCheckpointer
    from detectron2.modeling import build_model

    from mejigclu_mm.transfer.detectron2_guard import check_detectron2_model
    from mejigclu_mm.transfer.detectron2_recipes import detectron2_recipe_config
    cfg = detectron2_recipe_config(config)
    cfg.merge_from_list(['MODEL.DEVICE', 'cpu', 'MODEL.WEIGHTS', checkpoint])
    cfg.freeze()
    model = build_model(cfg)
    DetectionCheckpointer(model).load(checkpoint)
    return check_detectron2_model(model, cfg, checkpoint, image, pretraining)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='mmdet / mmseg / mmpretrain .py or detectron2 .yaml')
    parser.add_argument('checkpoint', help='the backbone checkpoint (any layout)')
    parser.add_argument('--image', help='the photo (default: an offline ImageNet photo)')
    parser.add_argument('--prefix', help='where the backbone stands in the file (default: found)')
    parser.add_argument('--pretraining-mean', type=float, nargs=3, metavar='M')
    parser.add_argument('--pretraining-std', type=float, nargs=3, metavar='S')
    parser.add_argument('--pretraining-bgr', action='store_true',
                        help='the pretrained network took BGR (default RGB)')
    args = parser.parse_args(argv)
    if (args.pretraining_mean is None) != (args.pretraining_std is None):
        parser.error('--pretraining-mean and --pretraining-std go together')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    pretraining = None if args.pretraining_mean is None else Preprocessing(
        rgb=not args.pretraining_bgr, mean=tuple(args.pretraining_mean),
        std=tuple(args.pretraining_std))
    try:
        if args.config.endswith(('.yaml', '.yml')):
            verdict = check_detectron2(args.config, args.checkpoint, args.image, pretraining)
        else:
            verdict = check_mmlab(args.config, args.checkpoint, args.image, args.prefix,
                                  pretraining)
    except (PretrainedCheckpointError, CheckpointLayoutError, FileNotFoundError) as error:
        print(f'transfer guard: the checkpoint does not load: {error}')
        return 1
    print(verdict.text())
    return 0 if verdict.ok else 1


if __name__ == '__main__':
    sys.exit(main())
