from .gather import gather_with_grad, gather_without_grad
from .mlp import two_layer_mlp
from .montage import draw_global_permutation, stitch_montages
from .pretrained_init import StrictPretrainedInit  # noqa: F401  (registers 'Pretrained')
from .targets import JigsawTargets

__all__ = [
    'gather_with_grad', 'gather_without_grad', 'two_layer_mlp', 'draw_global_permutation',
    'stitch_montages', 'JigsawTargets'
]
