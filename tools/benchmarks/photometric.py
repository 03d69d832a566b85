"""Section ``photometric``: PatchPhotometric vs kornia.augmentation, per operation and total."""
from dataclasses import dataclass
from typing import Callable, Dict

import torch

from .report import SectionReport, Table, ratio
from .section import RunContext, Section, setting, settings_line
from .timing import time_interleaved

# PatchPhotometric arguments that keep one operation of the MoCo v2 recipe (probabilities of
# the others set to 0); 'all' is the whole recipe.
RECIPE = dict(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1, jitter_prob=0.8,
              grayscale_prob=0.2, blur_sigma=(0.1, 2.0), blur_prob=0.5)
ONLY = {
    'colour jitter (p 0.8)': dict(grayscale_prob=0., blur_prob=0.),
    'grayscale (p 0.2)': dict(jitter_prob=0., blur_prob=0.),
    'Gaussian blur 13 x 13 (p 0.5)': dict(jitter_prob=0., grayscale_prob=0.),
    'all three': {},
}


@dataclass
class PhotometricSettings:
    batch: int = setting(128, 'patches per call')
    patch_size: int = setting(112, 'patch side, px')
    steps: int = setting(5, 'timed calls per row and implementation')
    warmup: int = setting(1, 'untimed calls first')


def kornia_operations() -> Dict[str, torch.nn.Module]:
    """kornia.augmentation's version of every row (same_on_batch=False: own draws per patch)."""
    import kornia.augmentation as K
    jitter = K.ColorJitter(0.4, 0.4, 0.4, 0.1, p=0.8, same_on_batch=False)
    grey = K.RandomGrayscale(p=0.2, same_on_batch=False)
    blur = K.RandomGaussianBlur((13, 13), (0.1, 2.0), p=0.5, same_on_batch=False)
    return dict(zip(ONLY, (jitter, grey, blur, torch.nn.Sequential(jitter, grey, blur))))


def our_operations() -> Dict[str, Callable]:
    from mejigclu_mm.augmentation import PatchPhotometric
    return {name: PatchPhotometric(**dict(RECIPE, **changes)) for name, changes in ONLY.items()}


def run(settings: PhotometricSettings, context: RunContext) -> SectionReport:
    """Time both libraries on the same uint8 patches (conversion to float in [0, 1] included)."""
    report = SectionReport(settings=[settings_line(settings, context)])
    generator = torch.Generator().manual_seed(context.seed)
    patches = torch.randint(0, 256, (settings.batch, 3, settings.patch_size,
                                     settings.patch_size), dtype=torch.uint8,
                            generator=generator).to(context.device)
    ours, theirs = our_operations(), kornia_operations()
    table = Table(['operation', 'PatchPhotometric ms', 'kornia ms', 'PatchPhotometric patches/s',
                   'kornia patches/s', 'PatchPhotometric speed-up'])
    for name in ONLY:
        calls = {library: (lambda op=operation: op(patches.float() / 255.))
                 for library, operation in (('ours', ours[name]), ('kornia', theirs[name]))}
        with torch.no_grad():
            timings = time_interleaved(calls, context.device, settings.steps, settings.warmup)
        seconds = [timings['ours'].median, timings['kornia'].median]
        table.add(name, 1000 * seconds[0], 1000 * seconds[1], settings.batch / seconds[0],
                  settings.batch / seconds[1], f'{ratio(seconds[1], seconds[0]):.2f}x')
    report.tables.append(table)
    report.notes += [
        'Same uint8 patches for both; each call converts them to float in [0, 1] and draws its '
        'own random parameters per patch (kornia: same_on_batch=False). Single-operation rows '
        'set the other operations\' probabilities to 0 (PatchPhotometric) or use the one kornia '
        'module. The two libraries are called alternately; median per call.',
        'Not the same distribution: kornia.augmentation.ColorJitter draws ONE order of the four '
        'colour operations per batch; PatchPhotometric draws one per patch, as torchvision does '
        'per image (docs/design.md).',
    ]
    return report


SECTION = Section(
    name='photometric',
    title='(d) photometric augmentation: PatchPhotometric vs kornia.augmentation',
    description="""\
The MoCo v2 photometric recipe on B uint8 patches: PatchPhotometric (per-patch draws, batched)
against kornia.augmentation ColorJitter(0.4, 0.4, 0.4, 0.1, p=0.8), RandomGrayscale(p=0.2),
RandomGaussianBlur((13, 13), (0.1, 2.0), p=0.5), same_on_batch=False; total and per operation.
kornia draws one jitter order per batch.""",
    settings=PhotometricSettings,
    run=run,
    cuda_defaults=dict(batch=1024, steps=20, warmup=3),
)
