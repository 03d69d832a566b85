"""mejigclu_mm: MEJigClu and JigClu self-supervised pretraining inside mmpretrain.

Importing the package registers its transforms, samplers, models, data preprocessor, losses and
hooks into mmpretrain's registries, makes ``init_cfg=dict(type='Pretrained')`` strict about
missing keys (:mod:`mejigclu_mm.models.utils.pretrained_init`) and makes mmengine checkpoints
load with torch's safe unpickler (:mod:`mejigclu_mm.utils.safe_checkpoint`).
"""
from .utils import install_safe_checkpoint_loading

install_safe_checkpoint_loading()

from . import datasets, engine, models  # noqa: E402,F401  (register components)

__version__ = '0.1.0'
