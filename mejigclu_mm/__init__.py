"""mejigclu_mm: MEJigClu and JigClu self-supervised pretraining inside mmpretrain.

The method lives in :mod:`~mejigclu_mm.datasets`, :mod:`~mejigclu_mm.augmentation` and
:mod:`~mejigclu_mm.models`. Around it, apart: :mod:`~mejigclu_mm.runtime` (the guards of an
mmengine run: safe checkpoint loading, atomic writes, exact resume, the work-dir lock),
:mod:`~mejigclu_mm.transfer` (the field's checkpoint layouts, converters, the strict
initialiser), :mod:`~mejigclu_mm.evaluation` (frozen-feature probes) and
:mod:`~mejigclu_mm.cli` (what only the command-line tools in tools/ use).

Importing the package registers its components into mmpretrain's registries (and
``StrictPretrained`` into mmengine's weight initialisers) under names of their own: it changes
nothing in mmengine, mmpretrain, mmdet or torch for other code.
"""
from mejigclu_mm import datasets, evaluation, models, runtime, transfer  # noqa: F401  (register)

__version__ = '0.1.0'
