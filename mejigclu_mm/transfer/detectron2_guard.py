"""The transfer guard for a detectron2 detector (:mod:`mejigclu_mm.transfer.transfer_guard`)."""
import time
from typing import Optional

import numpy as np
import torch
from torch import nn

from mejigclu_mm.transfer.checkpoint_layouts import read_checkpoint_weights, resolve_backbone
from mejigclu_mm.transfer.transfer_guard import (FLOAT_NOISE, GuardVerdict, Preprocessing, explain,
                                                 guard_image, read_rgb, relative_difference,
                                                 source_network, source_settings, stage_outputs)


def check_detectron2_model(model: nn.Module, cfg, weights: str, image: Optional[str] = None,
                           pretraining: Optional[Preprocessing] = None) -> GuardVerdict:
    """Compare a detectron2 detector's ResNet with the network of its ``.pkl`` on one photo.

    The photo goes through detectron2's own preprocessing (``INPUT.FORMAT``, ``PIXEL_MEAN`` /
    ``PIXEL_STD``: ``model.preprocess_image``) and the detector's ResNet (res5 of an FPN
    detector's bottom-up, res4 of a C4 detector, whose res5 is in the box head), and through
    torchvision's preprocessing (or ``pretraining``) and the file's weights in an mmpretrain
    ResNet of the pretraining's settings; beyond float noise the settings at fault are named
    (channel order, mean / std, ``STRIDE_IN_1X1``). Cost: one forward of each ResNet.

    Args:
        model (nn.Module): The detector, ``MODEL.WEIGHTS`` loaded.
        cfg (CfgNode): Its config.
        weights (str): The ``.pkl`` (or any layout) the weights came from.
        image (str, optional): The photo. Defaults to an offline ImageNet photo.
        pretraining (Preprocessing, optional): The pretraining's input. Defaults to
            torchvision's.
    """
    start = time.perf_counter()
    image = image or guard_image()
    rgb = read_rgb(image, 224)
    fed = rgb if cfg.INPUT.FORMAT == 'RGB' else rgb[..., ::-1]
    tensor = torch.as_tensor(np.ascontiguousarray(fed.transpose(2, 0, 1)), dtype=torch.float32)
    training = model.training
    model.eval()
    try:
        with torch.no_grad():
            images = model.preprocess_image([{'image': tensor}]).tensor
            features = getattr(model.backbone, 'bottom_up', model.backbone)(images)
    finally:
        model.train(training)
    last = max(name for name in features if name.startswith('res'))
    stage = int(last[3:]) - 1  # res2..res5 are stages 1-4
    state = resolve_backbone(read_checkpoint_weights(weights)).state
    settings = source_settings({}, pretraining)
    source = source_network(cfg.MODEL.RESNETS.DEPTH, state, settings)
    theirs = stage_outputs(source, settings.preprocessing.apply(rgb))[stage - 1]
    difference = relative_difference(features[last], theirs)
    faults = []
    if difference > FLOAT_NOISE:
        detector = Preprocessing(rgb=cfg.INPUT.FORMAT == 'RGB', mean=tuple(cfg.MODEL.PIXEL_MEAN),
                                 std=tuple(cfg.MODEL.PIXEL_STD))
        faults = explain(detector, settings,
                         'caffe' if cfg.MODEL.RESNETS.STRIDE_IN_1X1 else 'pytorch', False)
    return GuardVerdict(stage, difference, faults, time.perf_counter() - start, image)
