"""The reference JigClu per-patch recipe with torchvision / PIL: the yardstick of section cpu.

Written here (not imported from the reference code) as JigClu's data loading does it: the image
is cut into 2 x 2 overlapping patches (overlap 0.3) from a PIL image, and every patch goes
through the MoCo v2 transforms at 112 px, ending in a normalised float tensor.
"""
import random
from typing import List

import torch
from PIL import Image, ImageFilter
from torchvision import transforms

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


class PILGaussianBlur:
    """MoCo v2's blur: ``PIL.ImageFilter.GaussianBlur`` with radius sigma ~ U(low, high)."""

    def __init__(self, sigma=(0.1, 2.0)):
        self.sigma = sigma

    def __call__(self, image: Image.Image) -> Image.Image:
        return image.filter(ImageFilter.GaussianBlur(radius=random.uniform(*self.sigma)))


def patch_transform(patch_size: int = 112) -> transforms.Compose:
    """MoCo v2's augmentation of one patch, as in the reference JigClu code."""
    return transforms.Compose([
        transforms.RandomResizedCrop(patch_size, scale=(0.2, 1.)),
        transforms.RandomApply([transforms.ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8),
        transforms.RandomGrayscale(p=0.2),
        transforms.RandomApply([PILGaussianBlur((0.1, 2.0))], p=0.5),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
    ])


class ReferenceJigsawRecipe:
    """Split a PIL image into grid x grid patches (overlap 0.3) and augment each with torchvision.

    Args:
        grid (int): Patches per side. Defaults to 2.
        overlap (float): JigClu's overlap ratio. Defaults to 0.3.
        patch_size (int): Output patch side. Defaults to 112.
    """

    def __init__(self, grid: int = 2, overlap: float = 0.3, patch_size: int = 112):
        self.grid, self.overlap = grid, overlap
        self.transform = patch_transform(patch_size)

    def __call__(self, image: Image.Image) -> List[torch.Tensor]:
        from mejigclu_mm.datasets.transforms.jigsaw_split import jigsaw_boxes
        boxes = jigsaw_boxes(image.height, image.width, self.grid, self.overlap)
        return [self.transform(image.crop(tuple(int(v) for v in box))) for box in boxes]
