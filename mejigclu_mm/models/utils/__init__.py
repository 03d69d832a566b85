from .gather import gather_with_grad, gather_without_grad
from .mlp import two_layer_mlp
from .montage import stitch_montages
from .patch_exchange import (draw_global_permutation, exchange_by_all_gather, exchange_patches,
                             targets_from_permutation)
from .pretrained_init import StrictPretrainedInit  # noqa: F401  (registers 'Pretrained')
from .targets import JigsawTargets

__all__ = [
    'gather_with_grad', 'gather_without_grad', 'two_layer_mlp', 'draw_global_permutation',
    'exchange_by_all_gather', 'exchange_patches', 'stitch_montages', 'targets_from_permutation',
    'JigsawTargets'
]
