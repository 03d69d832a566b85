"""Run the transfer guard before the first training step of an mmdet / mmseg / mmpretrain run."""
import os.path as osp
from typing import Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from mejigclu_mm.transfer.transfer_guard import (Preprocessing, TransferGuardError,
                                                 check_transfer_model, pipeline_loads_bgr,
                                                 train_pipeline)
from mmpretrain.registry import HOOKS


def _dataset_image(runner) -> Optional[str]:
    """The first image file of the run's training set, if its samples are files."""
    try:
        dataset = runner.train_dataloader.dataset
        while hasattr(dataset, 'dataset') and not hasattr(dataset, 'get_data_info'):
            dataset = dataset.dataset
        path = dataset.get_data_info(0).get('img_path')
    except Exception:  # no file-backed samples (e.g. Fashion-MNIST's arrays): the offline photo
        return None
    return path if isinstance(path, str) and osp.isfile(path) else None


@HOOKS.register_module()
class TransferGuardHook(Hook):
    """Stop a transfer run whose backbone computes something else than the pretrained network.

    From: the transfer protocols of Chen et al., *Jigsaw Clustering for Unsupervised Visual
    Representation Learning* (CVPR 2021), which fine-tune the pretrained network itself.

    In ``before_train`` (after the weights are initialised) one real image (the training set's
    first image file, else an offline ImageNet photo) goes through the model's data
    preprocessor (as the pipeline loads it: BGR for mmcv's loaders) and backbone, and through
    the pretraining's preprocessing and the checkpoint's own network
    (:mod:`mejigclu_mm.transfer.transfer_guard`); features that differ beyond float noise stop
    the run with the settings at fault named. Runs without a checkpoint in
    ``model.backbone.init_cfg`` (random init) are not checked. Cost: one forward of each
    network on one image (docs/transfer.md).

    Args:
        allow_mismatch (bool): Log the verdict and train anyway (the user means it).
            Defaults to False.
        pretraining (dict, optional): ``dict(rgb=..., mean=[...], std=[...])``: the
            pretraining's input, for files that record no pretraining config (converted
            ones). Defaults to None: torchvision's ImageNet normalisation, RGB.
        image (str, optional): The image to use. Defaults to None (see above).
    """

    priority = 'LOW'

    def __init__(self, allow_mismatch: bool = False, pretraining: Optional[dict] = None,
                 image: Optional[str] = None):
        self.allow_mismatch = allow_mismatch
        self.pretraining = None if pretraining is None else Preprocessing(
            rgb=bool(pretraining.get('rgb', True)), mean=tuple(pretraining['mean']),
            std=tuple(pretraining['std']))
        self.image = image

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        backbone = getattr(model, 'backbone', None)
        init_cfg = getattr(backbone, 'init_cfg', None)
        cfgs = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
        sources = [c for c in cfgs if isinstance(c, dict) and c.get('checkpoint')]
        if not sources or not hasattr(backbone, 'res_layers'):
            return
        checkpoint = str(sources[0]['checkpoint'])
        verdict = check_transfer_model(
            model, osp.expanduser(checkpoint), self.image or _dataset_image(runner),
            sources[0].get('prefix'), pipeline_loads_bgr(train_pipeline(runner.cfg)),
            self.pretraining)
        text = f'{verdict.text()}\n(checkpoint {checkpoint})'
        if verdict.ok:
            print_log(text, logger='current')
        elif self.allow_mismatch:
            print_log(f'{text}\nTransferGuardHook(allow_mismatch=True): training anyway',
                      logger='current', level=30)
        else:
            raise TransferGuardError(
                f'{text}\nFix the setting named, or set allow_mismatch=True on the '
                f'TransferGuardHook in custom_hooks if you mean it')
