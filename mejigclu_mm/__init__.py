"""mejigclu_mm: MEJigClu and JigClu self-supervised pretraining inside mmpretrain.

Importing the package registers its transforms, samplers, models and losses into mmpretrain's
registries and makes mmengine checkpoints load with torch's safe unpickler (see
:mod:`mejigclu_mm.utils.safe_checkpoint`).
"""
from .utils import install_safe_checkpoint_loading

install_safe_checkpoint_loading()

from . import datasets, engine, models  # noqa: E402,F401  (register components)

__version__ = '0.1.0'
