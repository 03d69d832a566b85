"""MLP_2: classify each patch by its source image in the batch (MEJigClu)."""
import torch
from mmengine.model import BaseModule

from mejigclu_mm.models.utils import JigsawTargets, two_layer_mlp
from mmpretrain.registry import MODELS


@MODELS.register_module()
class PatchClassificationHead(BaseModule):
    """N-way classification of each patch by its source image (L_cls).

    The classification branch of `MEJigClu: More Effective Jigsaw Clustering for Unsupervised
    Visual Representation Learning` (Zhang et al., Eq. 1): patches of the same image in a batch
    share a category, so the number of classes equals the global batch size N. A patch's class
    is its image's position in the global batch; with ``DisjointSubsetBatchSampler`` (the
    configs' default) that position is the image's subset of the data set, the same for the
    whole run, which makes the classes learnable (with shuffled batches they are not: L_cls stays at
    ln N). MLP_2 is Linear(in, hid) - ReLU - Linear(hid, N), not shared with the clustering MLP.
    The paper gives no sizes; hid = in_channels is our choice.

    Args:
        num_classes (int): N, the number of images in one global batch (batch size per GPU times
            the number of GPUs). A different batch raises a ``ValueError``.
        in_channels (int): Feature size from the neck. Defaults to 2048.
        hid_channels (int): Hidden size of MLP_2. Defaults to 2048.
        loss (dict): Config of the loss on the logits and source images (mmpretrain's losses).
            Defaults to ``CrossEntropyLoss``.
        loss_weight (float): Weight of this loss in the total (alpha). Defaults to 1.0.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self, num_classes: int, in_channels: int = 2048, hid_channels: int = 2048,
                 loss: dict = dict(type='CrossEntropyLoss'), loss_weight: float = 1.0,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.num_classes = num_classes
        self.mlp = two_layer_mlp(in_channels, hid_channels, num_classes)
        self.loss_module = MODELS.build(loss)
        self.loss_weight = loss_weight

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        """M x num_classes logits."""
        return self.mlp(feats)

    def loss(self, feats: torch.Tensor, targets: JigsawTargets) -> torch.Tensor:
        """Weighted cross-entropy on the source image of every patch."""
        if targets.num_images != self.num_classes:
            raise ValueError(
                f'PatchClassificationHead has num_classes={self.num_classes}, but this step has '
                f'{targets.num_images} images in the global batch (batch size per GPU x number '
                'of GPUs). Set num_classes to the global batch size and keep drop_last=True.')
        return self.loss_weight * self.loss_module(self(feats), targets.source_image)
