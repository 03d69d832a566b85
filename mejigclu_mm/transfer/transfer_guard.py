"""The transfer guard: does the detector's backbone compute what the pretrained network computed?

Weights that load whole can still transfer worse: BGR input for a network trained on RGB,
Caffe's mean / std (0-255 scale, std 1) for one trained with torchvision's, the stride of a
bottleneck on its 1 x 1 convolution (``style='caffe'``, detectron2's ``STRIDE_IN_1X1: True``)
for weights trained with it on the 3 x 3, a deep stem, frozen BN statistics that are not the
checkpoint's. :func:`compare_backbones` runs one real image through the detector's own
preprocessing and backbone and through the pretraining's preprocessing and the source ResNet
(the checkpoint's own weights in an mmpretrain ResNet of the pretraining's settings), compares
the last stage both compute alike (a stage the detector dilates on purpose, as mmseg's d8
backbones do, is left out with those after it) and, beyond float noise, names the settings at
fault. Cost: one forward of each network on one image (docs/transfer.md has the figure).
"""
import time
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config
from torch import nn

from mejigclu_mm.runtime import load_checkpoint_file
from mejigclu_mm.transfer.checkpoint_layouts import checkpoint_weights, resolve_backbone
from mejigclu_mm.utils.offline_data import offline_data_dir
from mmpretrain.models import ResNet, ResNet_CIFAR

# torchvision's ImageNet normalisation on the 0-255 scale, RGB: how ours, JigClu's and MoCo's
# ResNets were trained, and what a checkpoint that records no preprocessing is taken to need.
IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)
# Relative difference (max |a - b| / max |b|) of float32 noise through a ResNet-50 and beyond.
FLOAT_NOISE = 1e-3


class TransferGuardError(RuntimeError):
    """The detector's backbone computes something else than the pretrained network."""


@dataclass
class Preprocessing:
    """What a network's first convolution sees: channel order and normalisation (0-255 scale).

    Args:
        rgb (bool): The network takes RGB (else BGR).
        mean (tuple): Per-channel mean, in the network's channel order.
        std (tuple): Per-channel std, in the network's channel order.
    """
    rgb: bool
    mean: Tuple[float, ...] = IMAGENET_MEAN
    std: Tuple[float, ...] = IMAGENET_STD

    def apply(self, image_rgb: np.ndarray) -> torch.Tensor:
        """A 1 x 3 x H x W float tensor from an H x W x 3 uint8 RGB image."""
        image = image_rgb if self.rgb else image_rgb[..., ::-1]
        tensor = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float()
        mean = torch.tensor(self.mean, dtype=torch.float32).view(-1, 1, 1)
        std = torch.tensor(self.std, dtype=torch.float32).view(-1, 1, 1)
        return ((tensor - mean) / std).unsqueeze(0)

    def text(self) -> str:
        return (f'{"RGB" if self.rgb else "BGR"}, mean {[round(m, 3) for m in self.mean]}, '
                f'std {[round(s, 3) for s in self.std]}')


@dataclass
class SourceSettings:
    """How the checkpoint's network was built and fed in pretraining.

    Args:
        preprocessing (Preprocessing): Its input.
        style (str): 'pytorch' (stride on the 3 x 3 convolution) or 'caffe' (on the 1 x 1).
        deep_stem (bool): A three-convolution stem (ResNetV1c / V1d).
        small_stem (bool): mmpretrain's ResNet_CIFAR stem (3 x 3 stride 1, no max-pool).
        origin (str): Where these settings were read.
    """
    preprocessing: Preprocessing = field(default_factory=lambda: Preprocessing(rgb=True))
    style: str = 'pytorch'
    deep_stem: bool = False
    small_stem: bool = False
    origin: str = 'torchvision\'s (the file records no pretraining config)'


@dataclass
class GuardVerdict:
    """The result of :func:`compare_backbones`.

    Args:
        stage (int): The stage compared (1-4).
        difference (float): max |detector - source| / max |source| of its features.
        faults (list[str]): The settings at fault (empty when the features agree).
        seconds (float): Wall time of the comparison (both forwards included).
        image (str): The image used.
        note (str): What limits the comparison ('' when nothing does).
    """
    stage: int
    difference: float
    faults: List[str]
    seconds: float
    image: str
    note: str = ''

    @property
    def ok(self) -> bool:
        return self.difference <= FLOAT_NOISE

    def text(self) -> str:
        head = (f'stage {self.stage} features of the detector and of the source network on '
                f'{self.image} differ by {self.difference:.2e} of their scale (float noise: '
                f'<= {FLOAT_NOISE:g}); {self.seconds:.2f} s')
        if self.ok:
            return f'transfer guard: OK: {head}' + (f' ({self.note})' if self.note else '')
        faults = '\n'.join(f'  - {fault}' for fault in self.faults) or \
            '  - no setting found that explains it'
        return f'transfer guard: the backbone computes something else: {head}. At fault:\n{faults}'


def guard_image() -> str:
    """A real photo of the offline data (ImageNet validation, 224 x 224)."""
    return str(sorted(offline_data_dir('foolbox').glob('imagenet_*'))[0])


def read_rgb(path: str, size: int = 224) -> np.ndarray:
    """A ``size`` x ``size`` x 3 uint8 RGB array of an image file: its centre square resized
    (grey images made three-channel); both networks see the same pixels."""
    from PIL import Image
    with Image.open(path) as image:
        image = image.convert('RGB')
        side = min(image.size)
        left, top = (image.width - side) // 2, (image.height - side) // 2
        image = image.crop((left, top, left + side, top + side))
        return np.asarray(image.resize((size, size), Image.BILINEAR))


def source_settings(checkpoint: dict,
                    pretraining: Optional[Preprocessing] = None) -> SourceSettings:
    """The pretraining's settings, from the config an mmengine run saved in ``meta['cfg']``.

    Args:
        checkpoint (dict): A loaded checkpoint.
        pretraining (Preprocessing, optional): The input to assume when the file records no
            config (a converted file). Defaults to None: torchvision's.

    Returns:
        SourceSettings: The recorded settings, else torchvision's (converted and foreign files).
    """
    text = (checkpoint.get('meta') or {}).get('cfg') if isinstance(checkpoint, dict) else None
    if not isinstance(text, str):
        if pretraining is not None:
            return SourceSettings(pretraining, origin='the transfer config\'s statement (the '
                                  'file records no pretraining config)')
        return SourceSettings()
    try:
        cfg = Config.fromstring(text, '.py')
    except Exception:  # a config that does not parse here: the defaults, said so
        return SourceSettings(origin='torchvision\'s (the recorded config does not parse)')
    model = cfg.get('model') or {}
    pre = model.get('data_preprocessor') or cfg.get('data_preprocessor') or {}
    backbone = model.get('backbone') or {}
    swap = bool(pre.get('to_rgb', pre.get('bgr_to_rgb', False)))
    rgb = pipeline_loads_bgr(train_pipeline(cfg)) == swap
    return SourceSettings(
        Preprocessing(rgb=rgb, mean=tuple(pre.get('mean', IMAGENET_MEAN)),
                      std=tuple(pre.get('std', IMAGENET_STD))),
        style=backbone.get('style', 'pytorch'), deep_stem=bool(backbone.get('deep_stem')),
        small_stem='CIFAR' in str(backbone.get('type', '')),
        origin='the pretraining config saved in the checkpoint')


def stage_outputs(backbone: nn.Module, images: torch.Tensor) -> Tuple[torch.Tensor, ...]:
    """Every stage's output of an mmpretrain / mmdet / mmseg ResNet, in eval mode."""
    out_indices, training = backbone.out_indices, backbone.training
    backbone.out_indices = tuple(range(len(backbone.res_layers)))
    backbone.eval()
    try:
        with torch.no_grad():
            return tuple(backbone(images))
    finally:
        backbone.out_indices = out_indices
        backbone.train(training)


def comparable_stages(strides: Sequence[int], dilations: Sequence[int]) -> int:
    """How many stages, from the first, keep the standard strides (1, 2, 2, 2) and no dilation."""
    count = 0
    for stage, (stride, dilation) in enumerate(zip(strides, dilations)):
        if stride != (1 if stage == 0 else 2) or dilation != 1:
            break
        count += 1
    return count


def source_network(depth: int, state: dict, settings: SourceSettings) -> nn.Module:
    """The checkpoint's own weights in an mmpretrain ResNet of the pretraining's settings.

    The stem follows the weights: a 3 x 3 ``conv1`` is ResNet_CIFAR's, ``stem.*`` a deep stem.
    """
    conv1 = state.get('conv1.weight')
    small = settings.small_stem or (conv1 is not None and tuple(conv1.shape[-2:]) == (3, 3))
    kind = ResNet_CIFAR if small else ResNet
    net = kind(depth=depth, style=settings.style,
               deep_stem=settings.deep_stem or any(k.startswith('stem.') for k in state),
               out_indices=(0, 1, 2, 3))
    net.load_state_dict(state, strict=False)
    net.eval()  # mmpretrain's ResNet.train returns None
    return net


def relative_difference(a: torch.Tensor, b: torch.Tensor) -> float:
    if a.shape != b.shape:
        return float('inf')
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-12))


def _weight_faults(backbone: nn.Module, state: dict) -> List[str]:
    own = backbone.state_dict()
    differ = [k for k, v in state.items() if k in own and own[k].shape == v.shape
              and not torch.equal(own[k].float(), v.float())]
    if not differ:
        return []
    statistics = [k for k in differ if 'running_' in k]
    what = ('BN statistics of the frozen stages are not the checkpoint\'s' if statistics else
            'weights are not the checkpoint\'s')
    return [f'{what}: {len(differ)} tensors differ from the file, e.g. {", ".join(differ[:4])}']


def _rounded(values) -> list:
    return [round(float(v), 3) for v in values]


def explain(detector: Preprocessing, source: SourceSettings, style: str, deep_stem: bool,
            weight_faults: Sequence[str] = ()) -> List[str]:
    """The settings in which the detector differs from the pretraining, named."""
    faults = []
    if detector.rgb != source.preprocessing.rgb:
        faults.append(f'channel order: the detector\'s backbone sees '
                      f'{"RGB" if detector.rgb else "BGR"}, the pretrained network saw '
                      f'{"RGB" if source.preprocessing.rgb else "BGR"} (data_preprocessor '
                      f'bgr_to_rgb / detectron2 INPUT.FORMAT)')
    mean, std = source.preprocessing.mean, source.preprocessing.std
    if detector.rgb != source.preprocessing.rgb:  # the detector's channel order
        mean, std = tuple(reversed(mean)), tuple(reversed(std))

    def close(values, *expected):
        return any(np.allclose(values, e, atol=1e-3) for e in expected)

    # with the channel order at fault, values in the pretraining's order are not a second fault
    if not (close(detector.mean, mean, source.preprocessing.mean)
            and close(detector.std, std, source.preprocessing.std)):
        faults.append(f'mean / std scale: the detector normalises with mean '
                      f'{_rounded(detector.mean)}, std {_rounded(detector.std)}; the pretraining '
                      f'with mean {_rounded(mean)}, std {_rounded(std)} (0-255 scale, the '
                      f'detector\'s channel order)')
    if style != source.style:
        faults.append(f'stride placement: the detector\'s blocks are style={style!r} (stride on '
                      f'the {"1 x 1" if style == "caffe" else "3 x 3"} convolution), the '
                      f'pretrained network\'s {source.style!r} (detectron2: STRIDE_IN_1X1 '
                      f'{style == "caffe"})')
    if deep_stem != source.deep_stem:
        faults.append(f'deep stem: the detector has deep_stem={deep_stem}, the pretrained '
                      f'network {source.deep_stem}')
    return faults + list(weight_faults)


def compare_backbones(backbone: nn.Module, preprocessing: Preprocessing, checkpoint: dict,
                      path: str, image: Optional[str] = None, prefix: Optional[str] = None,
                      pretraining: Optional[Preprocessing] = None) -> GuardVerdict:
    """Compare an mmpretrain / mmdet / mmseg ResNet backbone with the network of ``checkpoint``.

    Args:
        backbone (nn.Module): The detector's backbone, loaded.
        preprocessing (Preprocessing): What the detector feeds it (its data_preprocessor and
            the channel order the pipeline loads).
        checkpoint (dict): The loaded checkpoint the backbone was to be initialised from.
        path (str): Its file, for messages.
        image (str, optional): The image. Defaults to :func:`guard_image`.
        prefix (str, optional): Where the backbone stands in the file. Defaults to None: found.
        pretraining (Preprocessing, optional): The pretraining's input when the file records
            no config (a converted file). Defaults to None: torchvision's.

    Returns:
        GuardVerdict: The stage compared, the difference and the settings at fault.
    """
    start = time.perf_counter()
    image = image or guard_image()
    settings = source_settings(checkpoint, pretraining)
    state = resolve_backbone(checkpoint_weights(checkpoint, path), prefix).state
    source = source_network(backbone.depth, state, settings)
    # the small-image stem keeps full resolution to stage 1: 64 px, its scenes' size
    rgb = read_rgb(image, 64 if isinstance(source, ResNet_CIFAR) else 224)
    ours = stage_outputs(backbone, preprocessing.apply(rgb))
    theirs = stage_outputs(source, settings.preprocessing.apply(rgb))
    stages = comparable_stages(getattr(backbone, 'strides', (1, 2, 2, 2)),
                               getattr(backbone, 'dilations', (1, 1, 1, 1)))
    stage = max(stages, 1)
    difference = relative_difference(ours[stage - 1], theirs[stage - 1])
    faults = []
    note = ''
    if not theirs[stage - 1].abs().max() > 0:  # e.g. an untrained network's: nothing to compare
        difference = 0.0 if not ours[stage - 1].abs().max() > 0 else difference
        note = (f'the source network\'s stage {stage} features are all zero on the image: '
                f'nothing was compared')
    elif difference > FLOAT_NOISE:
        faults = explain(preprocessing, settings, getattr(backbone, 'style', 'pytorch'),
                         bool(getattr(backbone, 'deep_stem', False)),
                         _weight_faults(backbone, state))
    return GuardVerdict(stage, difference, faults, time.perf_counter() - start, image, note)


def model_preprocessing(preprocessor: nn.Module, loads_bgr: bool = True) -> Preprocessing:
    """What a built mmdet / mmseg / mmpretrain data preprocessor feeds the backbone.

    Args:
        preprocessor (nn.Module): ``model.data_preprocessor``.
        loads_bgr (bool): The pipeline hands it BGR (:func:`pipeline_loads_bgr`).
    """
    # mmengine / mmdet: _channel_conversion; mmseg: channel_conversion; mmpretrain: to_rgb
    swap = any(bool(getattr(preprocessor, name, False))
               for name in ('_channel_conversion', 'channel_conversion', 'to_rgb'))
    normalise = bool(getattr(preprocessor, '_enable_normalize', True)) and \
        getattr(preprocessor, 'mean', None) is not None
    mean = tuple(float(v) for v in preprocessor.mean.flatten()) if normalise else (0., 0., 0.)
    std = tuple(float(v) for v in preprocessor.std.flatten()) if normalise else (1., 1., 1.)
    return Preprocessing(rgb=loads_bgr == swap, mean=mean, std=std)


def pipeline_loads_bgr(pipeline: Sequence[dict]) -> bool:
    """Whether a dataset pipeline hands the model BGR images.

    mmcv's file loaders give BGR unless ``channel_order='rgb'``; ``PILToNumpy`` BGR unless
    ``to_bgr=False``; array datasets without either (CIFAR, Fashion-MNIST) give RGB; an empty
    pipeline (none found) is taken as mmcv's loader's.
    """
    for step in pipeline or ():
        kind = str(step.get('type', '')).split('.')[-1] if isinstance(step, dict) else ''
        if 'LoadImageFrom' in kind:
            return step.get('channel_order', 'bgr') != 'rgb'
        if kind == 'PILToNumpy':
            return bool(step.get('to_bgr', True))
    return not pipeline  # no pipeline found: mmcv's loaders; steps without a loader: arrays


def train_pipeline(cfg) -> Sequence[dict]:
    """The pipeline of a config's training set, looking through dataset wrappers."""
    dataset = (cfg.get('train_dataloader') or {}).get('dataset') or {}
    while 'pipeline' not in dataset:
        if isinstance(dataset.get('dataset'), dict):  # RepeatDataset, ClassBalancedDataset
            dataset = dataset['dataset']
        elif dataset.get('datasets'):  # ConcatDataset (VOC07+12, VOC12 + SBD)
            dataset = dataset['datasets'][0]
        else:
            break
    return dataset.get('pipeline') or ()


def check_transfer_model(model: nn.Module, checkpoint_path: str, image: Optional[str] = None,
                         prefix: Optional[str] = None, loads_bgr: bool = True,
                         pretraining: Optional[Preprocessing] = None) -> GuardVerdict:
    """:func:`compare_backbones` for a built mmlab model whose backbone holds the checkpoint.

    Args:
        model (nn.Module): The model, ``backbone`` and ``data_preprocessor`` built.
        checkpoint_path (str): The file its backbone was initialised from.
        image (str, optional): The image. Defaults to :func:`guard_image`.
        prefix (str, optional): Where the backbone stands in the file.
        loads_bgr (bool): The pipeline loads BGR. Defaults to True.
        pretraining (Preprocessing, optional): See :func:`compare_backbones`.
    """
    return compare_backbones(model.backbone, model_preprocessing(model.data_preprocessor,
                                                                 loads_bgr),
                             load_checkpoint_file(checkpoint_path), checkpoint_path, image,
                             prefix, pretraining)
