from .gather import gather_with_grad, gather_without_grad
from .mlp import two_layer_mlp
from .montage import stitch_montages
from .patch_exchange import (ExchangedPatches, exchange_patches, patch_grid, slot_sources,
                             targets_from_permutation)
from .pretrained_init import StrictPretrainedInit  # noqa: F401  (registers 'StrictPretrained')
from .targets import JigsawTargets

__all__ = [
    'gather_with_grad', 'gather_without_grad', 'two_layer_mlp', 'ExchangedPatches',
    'exchange_patches', 'patch_grid', 'slot_sources', 'stitch_montages',
    'targets_from_permutation', 'JigsawTargets'
]
