"""Augmentation shared by the data pipeline (CPU, per patch) and the data preprocessor (device,
batched): one implementation, so both paths draw from the same distributions."""
from mejigclu_mm.augmentation.patch_photometric import PatchPhotometric, PhotometricParams

__all__ = ['PatchPhotometric', 'PhotometricParams']
