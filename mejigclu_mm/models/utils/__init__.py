from mejigclu_mm.models.utils.gather import gather_with_grad, gather_without_grad
from mejigclu_mm.models.utils.initial_backbone import init_from_seed, loads_a_checkpoint
from mejigclu_mm.models.utils.mlp import two_layer_mlp
from mejigclu_mm.models.utils.montage import stitch_montages
from mejigclu_mm.models.utils.patch_exchange import (ExchangedPatches, exchange_patches, patch_grid,
                                                     slot_sources, targets_from_permutation)
from mejigclu_mm.models.utils.targets import JigsawTargets

__all__ = [
    'gather_with_grad', 'gather_without_grad', 'init_from_seed', 'loads_a_checkpoint',
    'two_layer_mlp', 'ExchangedPatches', 'exchange_patches', 'patch_grid', 'slot_sources',
    'stitch_montages', 'targets_from_permutation', 'JigsawTargets'
]
