"""The MoCo v2 photometric recipe, batched, with independent random parameters per patch."""
import math
from dataclasses import dataclass, fields
from typing import Callable, Optional, Sequence, Tuple

import torch
from kornia.color import hsv_to_rgb, rgb_to_hsv
from kornia.filters import gaussian_blur2d

# ITU-R 601-2 luma, the weights torchvision's rgb_to_grayscale uses
LUMA = (0.2989, 0.587, 0.114)


def grayscale(images: torch.Tensor) -> torch.Tensor:
    """B x 1 x h x w luma of B x 3 x h x w RGB images (a 1-channel input is returned as is)."""
    if images.size(1) == 1:
        return images
    r, g, b = images.unbind(dim=1)
    return (LUMA[0] * r + LUMA[1] * g + LUMA[2] * b).unsqueeze(1)


def _blend(images: torch.Tensor, other: torch.Tensor, ratio: torch.Tensor) -> torch.Tensor:
    ratio = ratio.view(-1, 1, 1, 1)
    return (ratio * images + (1 - ratio) * other).clamp(0, 1)


def adjust_brightness(images: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """torchvision's ``adjust_brightness`` with one factor per image (float images in [0, 1])."""
    return _blend(images, torch.zeros_like(images), factor)


def adjust_contrast(images: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """torchvision's ``adjust_contrast``: blend with the image's mean luma."""
    mean = grayscale(images).mean(dim=(-3, -2, -1), keepdim=True)
    return _blend(images, mean, factor)


def adjust_saturation(images: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """torchvision's ``adjust_saturation``: blend with the luma (no-op on 1-channel images)."""
    if images.size(1) == 1:
        return images
    return _blend(images, grayscale(images), factor)


def adjust_hue(images: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """torchvision's ``adjust_hue``: rotate the hue by ``shift`` turns (in [-0.5, 0.5])."""
    if images.size(1) == 1:
        return images
    hsv = rgb_to_hsv(images)
    hue = torch.remainder(hsv[:, :1] + shift.view(-1, 1, 1, 1) * (2 * math.pi), 2 * math.pi)
    return hsv_to_rgb(torch.cat([hue, hsv[:, 1:]], dim=1)).clamp(0, 1)


JITTER_OPS: Tuple[Callable, ...] = (adjust_brightness, adjust_contrast, adjust_saturation,
                                     adjust_hue)


@dataclass
class PhotometricParams:
    """The random draws of one batch: one row per patch.

    Args:
        jitter (Tensor): bool, colour jitter applied.
        factors (Tensor): B x 4 brightness, contrast, saturation factors and hue shift.
        order (Tensor): B x 4 permutation of the four jitter operations.
        grayscale (Tensor): bool, converted to grey.
        blur (Tensor): bool, blurred.
        sigma (Tensor): blur sigma.
    """
    jitter: torch.Tensor
    factors: torch.Tensor
    order: torch.Tensor
    grayscale: torch.Tensor
    blur: torch.Tensor
    sigma: torch.Tensor

    def __getitem__(self, index: torch.Tensor) -> 'PhotometricParams':
        """The parameters of the rows ``index`` (e.g. the patches one rank holds)."""
        return PhotometricParams(**{field.name: getattr(self, field.name)[index]
                                    for field in fields(self)})


class PatchPhotometric:
    """Colour jitter, grayscale and Gaussian blur with their own random draws for every patch.

    The photometric half of the MoCo v2 augmentation (He et al. 2020; Chen et al. 2020,
    "Improved Baselines with Momentum Contrastive Learning"), which JigClu and MEJigClu apply to
    every patch: ``RandomApply(ColorJitter(0.4, 0.4, 0.4, 0.1), p=0.8)``,
    ``RandomGrayscale(p=0.2)``, ``RandomApply(GaussianBlur(sigma ~ U(0.1, 2.0)), p=0.5)``.
    The colour operations run in a random order drawn per patch, as torchvision's
    ``ColorJitter`` does per image (kornia's batched ``ColorJitter`` draws one order per batch,
    which is why the scheduling is ours; the operations match torchvision's functional ones and
    the HSV conversion and blur are kornia's). The blur kernel has ``2 * ceil(3 * sigma_max) + 1``
    taps (13 for sigma up to 2), +-3 sigma at the largest sigma.

    Works on float images in [0, 1], B x C x h x w (C = 3 RGB, or 1), on any device. Each
    operation runs only on the patches that drew it.

    Example:
        >>> aug = PatchPhotometric()
        >>> out = aug(torch.rand(1024, 3, 112, 112, device='cuda'))

    Args:
        brightness (float): Brightness factors ~ U(max(0, 1 - b), 1 + b). Defaults to 0.4.
        contrast (float): Contrast factors, as brightness. Defaults to 0.4.
        saturation (float): Saturation factors, as brightness. Defaults to 0.4.
        hue (float): Hue shifts ~ U(-hue, hue) turns, hue <= 0.5. Defaults to 0.1.
        jitter_prob (float): Probability of the colour jitter. Defaults to 0.8.
        grayscale_prob (float): Probability of grayscale. Defaults to 0.2.
        blur_sigma (tuple[float, float]): Range of the blur sigma. Defaults to (0.1, 2.0).
        blur_prob (float): Probability of the blur. Defaults to 0.5.
    """

    def __init__(self, brightness: float = 0.4, contrast: float = 0.4, saturation: float = 0.4,
                 hue: float = 0.1, jitter_prob: float = 0.8, grayscale_prob: float = 0.2,
                 blur_sigma: Sequence[float] = (0.1, 2.0), blur_prob: float = 0.5):
        for name, value in dict(brightness=brightness, contrast=contrast,
                                saturation=saturation).items():
            if value < 0:
                raise ValueError(f'PatchPhotometric: {name} must be >= 0, got {value}')
        if not 0 <= hue <= 0.5:
            raise ValueError(f'PatchPhotometric: hue must lie in [0, 0.5], got {hue}')
        for name, value in dict(jitter_prob=jitter_prob, grayscale_prob=grayscale_prob,
                                blur_prob=blur_prob).items():
            if not 0 <= value <= 1:
                raise ValueError(f'PatchPhotometric: {name} must lie in [0, 1], got {value}')
        low, high = blur_sigma
        if not 0 < low <= high:
            raise ValueError(f'PatchPhotometric: blur_sigma must be 0 < low <= high, got '
                             f'{tuple(blur_sigma)}')
        self.ranges = [(max(0., 1 - v), 1 + v) for v in (brightness, contrast, saturation)]
        self.ranges.append((-hue, hue))
        self.jitter_prob, self.grayscale_prob, self.blur_prob = jitter_prob, grayscale_prob, \
            blur_prob
        self.blur_sigma = (float(low), float(high))
        self.kernel_size = 2 * math.ceil(3 * high) + 1

    def sample(self, batch: int, device: Optional[torch.device] = None,
               generator: Optional[torch.Generator] = None) -> PhotometricParams:
        """Draw the parameters of ``batch`` patches, independently for each.

        Args:
            batch (int): Number of patches.
            device (torch.device, optional): Device of the drawn tensors.
            generator (torch.Generator, optional): Source of the draws (on ``device``);
                None: torch's global generator.
        """
        def rand(*size):
            return torch.rand(size, device=device, generator=generator)

        def uniform(low, high):
            return low + (high - low) * rand(batch)

        factors = torch.stack([uniform(low, high) for low, high in self.ranges], dim=1)
        return PhotometricParams(
            jitter=rand(batch) < self.jitter_prob,
            factors=factors,
            order=rand(batch, 4).argsort(dim=1),
            grayscale=rand(batch) < self.grayscale_prob,
            blur=rand(batch) < self.blur_prob,
            sigma=uniform(*self.blur_sigma))

    def apply(self, images: torch.Tensor, params: PhotometricParams) -> torch.Tensor:
        """Apply drawn parameters to B x C x h x w float images in [0, 1] (a new tensor)."""
        if images.dim() != 4 or images.size(1) not in (1, 3):
            raise ValueError(f'PatchPhotometric expects B x 3 x h x w (or B x 1 x h x w) float '
                             f'images, got shape {tuple(images.shape)}')
        out = images.clone()
        for step in range(4):
            for op_index, op in enumerate(JITTER_OPS):
                chosen = params.jitter & (params.order[:, step] == op_index)
                _apply_in_place(out, chosen, lambda x, f=params.factors[chosen, op_index], op=op:
                                op(x, f))
        _apply_in_place(out, params.grayscale, lambda x: grayscale(x).expand_as(x))
        sigma = params.sigma[params.blur]
        _apply_in_place(out, params.blur, lambda x: gaussian_blur2d(
            x, self.kernel_size, torch.stack([sigma, sigma], dim=1), border_type='reflect'))
        return out

    def __call__(self, images: torch.Tensor, ids: Optional[torch.Tensor] = None,
                 num_ids: Optional[int] = None,
                 generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Draw parameters and apply them.

        Args:
            images (Tensor): B x C x h x w float images in [0, 1].
            ids (Tensor, optional): Global ids (0..num_ids-1) of the B images, e.g. of the
                patches of the whole multi-GPU batch that this rank holds. Parameters are then
                drawn for all ``num_ids`` and image b takes row ``ids[b]``: every rank draws the
                same table (same generator seed), each patch is used once, so patches get
                independent parameters, the same as in a one-process run of the same global
                batch.
            num_ids (int, optional): Number of global ids. Required with ``ids``.
            generator (torch.Generator, optional): Source of the draws, on the images' device;
                None: torch's global generator.
        """
        if ids is None:
            return self.apply(images, self.sample(images.size(0), images.device, generator))
        if num_ids is None:
            raise ValueError('PatchPhotometric: num_ids is required with ids')
        return self.apply(images, self.sample(num_ids, images.device, generator)[ids])

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(ranges={self.ranges}, jitter_prob={self.jitter_prob},'
                f' grayscale_prob={self.grayscale_prob}, blur_sigma={self.blur_sigma}, '
                f'blur_prob={self.blur_prob}, kernel_size={self.kernel_size})')


def _apply_in_place(images: torch.Tensor, chosen: torch.Tensor, fn: Callable) -> None:
    """Replace the rows of ``images`` where ``chosen`` is True by ``fn`` of them (boolean
    indexing; docs/speed.md says why not ``index_select``)."""
    if chosen.any():
        images[chosen] = fn(images[chosen]).to(images.dtype)
