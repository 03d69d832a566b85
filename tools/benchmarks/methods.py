"""The four training methods compared, built from their own configs, with synthetic batches.

MEJigClu and JigClu come from this repository's ImageNet configs, MoCo v2 and the supervised
ResNet-50 from mmpretrain's (``mmpretrain::...``, loaded with mmengine). The only changes made
here: the backbone depth (with the head widths that follow from it), MEJigClu's number of
classes (= the batch, as the config requires), and SyncBN reverted to BN (one process).
"""
import copy
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional

import torch
from mmengine.config import Config, ConfigDict
from mmengine.hub import get_config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope

ROOT = Path(__file__).resolve().parents[2]

MEJIGCLU, JIGCLU, MOCO_V2, SUPERVISED = 'MEJigClu', 'JigClu', 'MoCo v2', 'supervised'
CONFIGS = {
    MEJIGCLU: str(ROOT / 'configs/pretrain/mejigclu_resnet50_4xb64-coslr-200e_in1k.py'),
    JIGCLU: str(ROOT / 'configs/pretrain/jigclu_resnet50_4xb64-coslr-200e_in1k.py'),
    MOCO_V2: 'mmpretrain::mocov2/mocov2_resnet50_8xb32-coslr-200e_in1k.py',
    SUPERVISED: 'mmpretrain::resnet/resnet50_8xb32_in1k.py',
}
JIGSAW_METHODS = (MEJIGCLU, JIGCLU)
# Config keys holding the backbone's output width (2048 for ResNet-50, 512 for ResNet-18 / 34).
WIDTH_KEYS = {
    MEJIGCLU: ('heads.clu.in_channels', 'heads.clu.hid_channels', 'heads.cls.in_channels',
               'heads.cls.hid_channels'),
    JIGCLU: ('heads.clu.in_channels', 'heads.clu.hid_channels', 'heads.loc.in_channels'),
    MOCO_V2: ('neck.in_channels', 'neck.hid_channels'),
    SUPERVISED: ('head.in_channels', ),
}


def load_config(method: str) -> Config:
    """The method's training config (mmpretrain's own for MoCo v2 and supervised), a copy."""
    return copy.deepcopy(_parsed_config(method))


@lru_cache(maxsize=None)
def _parsed_config(method: str) -> Config:
    import mejigclu_mm  # noqa: F401  (registers the package's modules)
    path = CONFIGS[method]
    return get_config(path) if path.startswith('mmpretrain::') else Config.fromfile(path)


def backbone_width(depth: int) -> int:
    """Channels of a ResNet's last stage: 512 for depth 18 / 34, 2048 from 50 on."""
    return 512 if depth < 50 else 2048


def adapt_model_config(model: ConfigDict, method: str, depth: int, batch: int) -> ConfigDict:
    """Set the backbone depth, the widths that follow and MEJigClu's classes (in place).

    Args:
        model (ConfigDict): The config's ``model``.
        method (str): One of :data:`CONFIGS`.
        depth (int): ResNet depth (18, 34, 50, 101, 152).
        batch (int): Images per step; MEJigClu's classification head has one class per image.

    Returns:
        ConfigDict: ``model``.
    """
    model.backbone.depth = depth
    for key in WIDTH_KEYS[method]:
        *parents, leaf = key.split('.')
        node = model
        for name in parents:
            node = node.get(name)
            if node is None:
                break
        if node is not None and leaf in node:
            node[leaf] = backbone_width(depth)
    if 'cls' in model.get('heads', {}):
        model.heads.cls.num_classes = batch
    if method == MOCO_V2 and model.queue_len % batch:
        raise ValueError(f'MoCo v2 needs a batch that divides its queue ({model.queue_len}), '
                         f'got {batch}')
    return model


def build_model(method: str, depth: int, batch: int, device: str) -> torch.nn.Module:
    """Build the method's model from its config, as mmengine's Runner does, in train mode."""
    from mmpretrain.registry import MODELS
    cfg = load_config(method)
    model_cfg = adapt_model_config(cfg.model, method, depth, batch)
    if cfg.get('data_preprocessor') is not None:  # the Runner merges it the same way
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    init_default_scope('mmpretrain')
    model = revert_sync_batchnorm(MODELS.build(model_cfg))
    return model.to(device).train()


def jigsaw_split_config(cfg: Config) -> ConfigDict:
    """The ``JigsawSplit`` entry of a jigsaw config's training pipeline."""
    pipeline = cfg.train_dataloader.dataset.pipeline
    for step in pipeline:
        if step.get('type') == 'JigsawSplit':
            return step
    raise ValueError('the config has no JigsawSplit in train_dataloader.dataset.pipeline')


def synthetic_batch(method: str, batch: int, image_size: int, device: str,
                    device_photometric: bool = True, seed: int = 0) -> Dict[str, object]:
    """One training batch as the dataloader delivers it, already on ``device``.

    uint8 images, as after decoding: MEJigClu / JigClu get grid x grid patch batches of
    ``image_size / 2`` px (so montages are ``image_size``) and data samples carrying the
    config's photometric recipe for the device (None with ``device_photometric=False``);
    MoCo v2 two views of ``image_size``; supervised one image and a label.

    Args:
        method (str): One of :data:`CONFIGS`.
        batch (int): Images per step.
        image_size (int): Montage / view / image side in pixels.
        device (str): Where the tensors are put.
        device_photometric (bool): For jigsaw methods, leave the photometric recipe to the
            device (the default path), or mark it as done on the CPU.
        seed (int): Seed of the random pixels and labels.
    """
    from mmpretrain.structures import DataSample

    from mejigclu_mm.augmentation import PHOTOMETRIC_META_KEY
    generator = torch.Generator().manual_seed(seed)

    def images(size: int) -> torch.Tensor:
        return torch.randint(0, 256, (batch, 3, size, size), dtype=torch.uint8,
                             generator=generator).to(device)

    samples: List[DataSample] = [DataSample() for _ in range(batch)]
    if method in JIGSAW_METHODS:
        cfg = load_config(method)
        split = jigsaw_split_config(cfg)
        recipe: Optional[dict] = dict(split.photometric) if device_photometric else None
        for sample in samples:
            sample.set_metainfo({PHOTOMETRIC_META_KEY: recipe})
        grid = cfg.model.get('grid', 2)
        inputs = [images(image_size // grid) for _ in range(grid * grid)]
    elif method == MOCO_V2:
        inputs = [images(image_size), images(image_size)]
    else:
        labels = torch.randint(0, 1000, (batch, ), generator=generator)
        samples = [sample.set_gt_label(int(label)) for sample, label in zip(samples, labels)]
        inputs = images(image_size)
    samples = [sample.to(device) for sample in samples]
    return dict(inputs=inputs, data_samples=samples)
