"""mejigclu_mm: MEJigClu and JigClu self-supervised pretraining inside mmpretrain.

Importing the package registers its transforms, samplers, models, data preprocessor, losses and
hooks into mmpretrain's registries, under names of their own: it changes nothing in mmengine,
mmpretrain, mmdet or torch for other code. Our configs and tools opt in to the strict
``init_cfg=dict(type='StrictPretrained')`` (:mod:`mejigclu_mm.models.utils.pretrained_init`) and
to safe checkpoint loading (``SafeCheckpointHook``, ``safe_checkpoint_loading()``:
:mod:`mejigclu_mm.utils.safe_checkpoint`).
"""
from . import datasets, engine, models, utils  # noqa: F401  (register components)

__version__ = '0.1.0'
