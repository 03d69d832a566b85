"""The labels a montage batch carries to the heads."""
from dataclasses import dataclass

import torch


@dataclass
class JigsawTargets:
    """Per-patch labels of one training step, aligned with the gathered per-slot features.

    Row ``rank * m*m*n + slot * n + montage`` of the features gathered over ranks (rank-major;
    within a rank slot-major, as ``DecoupleNeck`` emits them) is labelled by entry ``row`` here.
    Every rank derives them from the shared permutation, without communication.

    Args:
        source_image (Tensor): Global image id (0..num_images-1) of each patch.
        source_position (Tensor): Row-major position (0..grid*grid-1) of each patch in its image.
        num_images (int): Images in the global batch, N.
        grid (int): Patches per side, m.
    """
    source_image: torch.Tensor
    source_position: torch.Tensor
    num_images: int
    grid: int

    @property
    def num_patches(self) -> int:
        """Patches of the global batch, m*m*N."""
        return self.grid * self.grid * self.num_images
