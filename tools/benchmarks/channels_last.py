"""Section ``channels-last``: NCHW vs channels-last for the demo's three workloads.

Formerly tools/benchmark_channels_last.py: ResNet_CIFAR-18 as ``make demo`` trains it, the
figures behind ChannelsLastHook being on in the Fashion-MNIST linear config only.
"""
from dataclasses import dataclass

import torch

from .report import SectionReport, Table, ratio
from .section import RunContext, Section, setting, settings_line
from .timing import time_interleaved


@dataclass
class ChannelsLastSettings:
    pretrain_batch: int = setting(64, 'pretraining workload: montages per step (32 px, fwd+bwd)')
    linear_batch: int = setting(256, 'linear-eval workload: images per step (32 px, frozen fwd)')
    detection_batch: int = setting(4, 'detection workload: images per step (fwd+bwd of the '
                                      'multi-scale backbone)')
    detection_size: int = setting(200, 'detection workload: image side, px')
    steps: int = setting(2, 'timed steps per workload and layout')
    warmup: int = setting(1, 'untimed steps first (oneDNN / cuDNN algorithm choice)')


def workloads(settings: ChannelsLastSettings) -> dict:
    """name: (batch, image size, out_indices, backward) of the demo's three workloads."""
    pretrain, linear = settings.pretrain_batch, settings.linear_batch
    detection, size = settings.detection_batch, settings.detection_size
    return {
        f'pretrain: {pretrain} montages, 32 px, fwd+bwd': (pretrain, 32, (3, ), True),
        f'linear eval: {linear} images, 32 px, frozen fwd': (linear, 32, (3, ), False),
        f'detection: {detection} images, {size} px, fwd+bwd': (detection, size, (1, 2, 3), True),
    }


def run(settings: ChannelsLastSettings, context: RunContext) -> SectionReport:
    from mmpretrain.models import ResNet_CIFAR
    report = SectionReport(settings=[settings_line(settings, context)])
    table = Table(['workload', 'NCHW s/step', 'channels-last s/step', 'speed-up'])
    for name, (batch, size, out_indices, backward) in workloads(settings).items():
        torch.manual_seed(context.seed)
        images = torch.randn(batch, 3, size, size, device=context.device)
        steps = {}
        for layout in (torch.contiguous_format, torch.channels_last):
            model = ResNet_CIFAR(depth=18, out_indices=out_indices).to(context.device)
            model.train(backward)  # mmpretrain's ResNet.train returns None: no chaining
            model.to(memory_format=layout)

            def step(model=model):
                if backward:
                    sum(out.mean() for out in model(images)).backward()
                else:
                    with torch.no_grad():
                        model(images)
            steps[layout] = step
        timings = time_interleaved(steps, context.device, settings.steps, settings.warmup)
        seconds = [timing.median for timing in timings.values()]
        table.add(name, seconds[0], seconds[1], f'{ratio(seconds[0], seconds[1]):.2f}x')
    report.tables.append(table)
    report.notes.append('ResNet_CIFAR-18 (the demo\'s backbone), fp32, inputs NCHW; the model '
                        'converted with model.to(memory_format=torch.channels_last) as '
                        'ChannelsLastHook does; the two layouts stepped alternately. Speed-up > 1: '
                        'channels-last is faster.')
    return report


SECTION = Section(
    name='channels-last',
    title="(g) channels-last for the demo's workloads (ResNet_CIFAR-18)",
    description="""\
NCHW vs channels-last seconds per step for make demo's three workloads: pretraining forward +
backward (64 montages of 32 px), linear-evaluation frozen forward (256 images of 32 px) and the
detection backbone at 200 px (formerly tools/benchmark_channels_last.py).""",
    settings=ChannelsLastSettings,
    run=run,
    cuda_defaults=dict(steps=10, warmup=3),
)
