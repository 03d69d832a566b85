"""Section ``cpu``: CPU data-pipeline images/s per core, decode excluded."""
import itertools
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

import numpy as np

from .images import decode, image_paths
from .methods import MEJIGCLU, SUPERVISED, jigsaw_split_config, load_config
from .report import SectionReport, Table, at_least, at_most, ratio
from .section import RunContext, Section, setting, settings_line
from .timing import one_cpu_thread, time_interleaved

OURS_DEFAULT = "ours, default: JigsawSplit geometry (photometric_on='device') + PackInputs"
OURS_AREA = "ours, default path with interpolation='area' (antialiased, PIL-like)"
OURS_CPU = "ours, per-patch CPU path: photometric_on='cpu'"
REFERENCE = 'reference JigClu recipe (torchvision / PIL, per patch)'
SUPERVISED_ROW = 'supervised: mmpretrain RandomResizedCrop(224) + RandomFlip + PackInputs'


@dataclass
class CpuPipelineSettings:
    image_dir: Optional[str] = setting(None, 'folder of photos (default: foolbox ImageNet, '
                                             '512 x 512)')
    images: int = setting(20, 'distinct photos decoded up front (decode is not timed)')
    samples: int = setting(60, 'images pushed through each pipeline, cycling over the photos')
    warmup: int = setting(5, 'untimed images first')


def jigsaw_pipeline(photometric_on: str, interpolation: str = 'bilinear') -> List[Callable]:
    """The MEJigClu config's pipeline after LoadImageFromFile, built by mmpretrain."""
    from mmpretrain.registry import TRANSFORMS
    cfg = load_config(MEJIGCLU)
    split = jigsaw_split_config(cfg)
    split.photometric_on, split.interpolation = photometric_on, interpolation
    steps = [s for s in cfg.train_dataloader.dataset.pipeline if 'LoadImage' not in s.type]
    return [TRANSFORMS.build(step) for step in steps]


def supervised_pipeline() -> List[Callable]:
    """mmpretrain's supervised ResNet-50 pipeline after LoadImageFromFile."""
    from mmpretrain.registry import TRANSFORMS
    cfg = load_config(SUPERVISED)
    steps = [s for s in cfg.train_dataloader.dataset.pipeline if 'LoadImage' not in s.type]
    return [TRANSFORMS.build(step) for step in steps]


def run_mm_pipeline(transforms: List[Callable], image: np.ndarray, index: int) -> dict:
    """Run mmcv-style transforms on a decoded image, as after LoadImageFromFile."""
    results = dict(img=image, img_shape=image.shape[:2], ori_shape=image.shape[:2],
                   img_path=f'image_{index}', sample_idx=index)
    for transform in transforms:
        results = transform(results)
    return results


def pipelines(photos: List[np.ndarray]) -> Dict[str, Callable[[int], object]]:
    """Each timed pipeline as ``f(index)`` working on pre-decoded photo ``index``."""
    from PIL import Image

    from .reference_jigclu import ReferenceJigsawRecipe
    ours, ours_area, ours_cpu, supervised = (
        jigsaw_pipeline('device'), jigsaw_pipeline('device', 'area'), jigsaw_pipeline('cpu'),
        supervised_pipeline())
    reference = ReferenceJigsawRecipe(grid=2, overlap=0.3, patch_size=112)
    pil_photos = [Image.fromarray(np.ascontiguousarray(p[..., ::-1])) for p in photos]  # RGB
    count = len(photos)
    return {
        OURS_DEFAULT: lambda i: run_mm_pipeline(ours, photos[i % count], i),
        OURS_AREA: lambda i: run_mm_pipeline(ours_area, photos[i % count], i),
        OURS_CPU: lambda i: run_mm_pipeline(ours_cpu, photos[i % count], i),
        REFERENCE: lambda i: reference(pil_photos[i % count]),
        SUPERVISED_ROW: lambda i: run_mm_pipeline(supervised, photos[i % count], i),
    }


def run(settings: CpuPipelineSettings, context: RunContext) -> SectionReport:
    """Time every pipeline on one core over the same pre-decoded photos."""
    np.random.seed(context.seed)
    paths = image_paths(settings.image_dir)
    photos = decode(paths, settings.images)
    sizes = sorted({f'{p.shape[1]} x {p.shape[0]}' for p in photos})
    report = SectionReport(settings=[settings_line(settings, context, extra=dict(
        photos=f'{len(photos)} from {paths[0].parent}', sizes='/'.join(sizes)))])
    with one_cpu_thread():
        calls = {name: (lambda pipeline=pipeline, counter=itertools.count():
                        pipeline(next(counter)))
                 for name, pipeline in pipelines(photos).items()}
        timings = time_interleaved(calls, 'cpu', settings.samples, settings.warmup)
    rates = {name: 1 / timing.mean for name, timing in timings.items()}
    table = Table(['pipeline (per image, decode excluded)', 'images/s per core', 'ms/image',
                   'vs supervised cost', 'vs reference images/s'])
    for name, rate in rates.items():
        table.add(name, rate, 1000 / rate, f'{ratio(rates[SUPERVISED_ROW], rate):.2f}x cost',
                  f'{ratio(rate, rates[REFERENCE]):.2f}x')
    report.tables.append(table)
    report.targets += [
        at_most('ours (default path) <= 1.5x the supervised cost per image',
                ratio(rates[SUPERVISED_ROW], rates[OURS_DEFAULT]), 1.5),
        at_least('ours (default path) >= 2x the reference images/s',
                 ratio(rates[OURS_DEFAULT], rates[REFERENCE]), 2.0)]
    report.notes += [
        'One process, torch.set_num_threads(1) and cv2.setNumThreads(1): images/s per core. '
        'Photos are decoded once up front (BGR numpy for the mmpretrain pipelines, RGB PIL '
        'images for the reference), so decoding is excluded from every row. The pipelines take '
        'turns image by image; images/s = 1 / mean time per image.',
        'Ours: the MEJigClu config\'s pipeline after LoadImageFromFile (2 x 2 patches of 112 px, '
        'overlap ~ U(0.15, 0.45), one crop-and-resize + flip per patch, uint8 out). The '
        'area row resizes with OpenCV\'s INTER_AREA instead of bilinear (JigsawSplit('
        'interpolation=\'area\'): antialiased when shrinking, like PIL). The '
        'per-patch CPU path adds the MoCo v2 photometric recipe in the worker. The reference: '
        'PIL crop of each patch box (overlap 0.3), then RandomResizedCrop(112, scale=(0.2, 1)), '
        'ColorJitter(0.4, 0.4, 0.4, 0.1) p 0.8, RandomGrayscale(0.2), PIL GaussianBlur '
        'sigma ~ U(0.1, 2) p 0.5, RandomHorizontalFlip, ToTensor, Normalize.',
        '"vs supervised cost" = (ms/image of the row) / (ms/image of supervised); the '
        'supervised pipeline is mmpretrain\'s resnet50_8xb32_in1k (cv2 backend).',
    ]
    return report


SECTION = Section(
    name='cpu',
    title='(c) CPU pipeline: images/s per core, decode excluded',
    description="""\
One process, one thread, photos pre-decoded to numpy: our default path's CPU part (JigsawSplit
geometry only), the per-patch CPU path (photometric_on='cpu'), the reference JigClu recipe
written with torchvision / PIL, and mmpretrain's supervised RandomResizedCrop(224) +
RandomFlip. Targets: ours <= 1.5x the supervised cost per image, >= 2x the reference images/s.""",
    settings=CpuPipelineSettings,
    run=run,
    cuda_defaults=dict(samples=200, warmup=10),
)
