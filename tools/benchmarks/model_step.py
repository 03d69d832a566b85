"""Section ``model``: images/s of one training step per method, inputs already on the device."""
from dataclasses import dataclass
from typing import Callable, Dict, Optional, Tuple

import torch

from .methods import JIGCLU, MEJIGCLU, MOCO_V2, SUPERVISED, build_model, synthetic_batch
from .precision import PRECISIONS, AutocastOptimWrapper, Precision
from .report import SectionReport, Table, at_least, megabytes, ratio
from .section import RunContext, Section, setting, settings_line
from .timing import PeakMemory, time_calls, time_interleaved

WITHOUT_DEVICE_AUG = ' w/o device aug'
ROWS = (MEJIGCLU, MEJIGCLU + WITHOUT_DEVICE_AUG, JIGCLU, MOCO_V2, SUPERVISED)


@dataclass
class ModelStepSettings:
    depth: int = setting(18, 'ResNet depth of every method (the configs use 50)')
    batch: int = setting(8, 'images per step (MEJigClu: classes = batch)')
    image_size: int = setting(64, 'px of montages (patches: half), MoCo views and supervised '
                                   'images')
    precisions: Tuple[str, ...] = setting(PRECISIONS, f'any of {", ".join(PRECISIONS)}')
    rows: Tuple[str, ...] = setting(ROWS, 'methods timed (MEJigClu w/o device aug: data samples '
                                          'say the photometric recipe already ran)')
    steps: int = setting(5, 'timed steps per row (median reported; round-robin on the CPU)')
    warmup: int = setting(1, 'untimed steps first')
    lr: float = setting(0.03, 'SGD learning rate (momentum 0.9, weight decay 1e-4)')


def training_step(row: str, settings: ModelStepSettings, precision: Precision,
                  context: RunContext) -> Callable[[], object]:
    """One ``model.train_step`` (forward, backward, SGD step) of the row's model, ready to call.

    The step is mmengine's ``BaseModel.train_step``, the Runner's path: the data preprocessor
    (device-side photometric augmentation for jigsaw methods when the data samples ask for
    it, normalisation), the loss, ``optim_wrapper.update_params``.
    """
    method = row.replace(WITHOUT_DEVICE_AUG, '')
    torch.manual_seed(context.seed)
    model = precision.prepare(build_model(method, settings.depth, settings.batch,
                                          context.device))
    optimizer = torch.optim.SGD(model.parameters(), lr=settings.lr, momentum=0.9,
                                weight_decay=1e-4)
    wrapper = AutocastOptimWrapper(optimizer, context.device, precision.autocast_dtype)
    data = synthetic_batch(method, settings.batch, settings.image_size, context.device,
                           device_photometric=not row.endswith(WITHOUT_DEVICE_AUG),
                           seed=context.seed)
    return lambda: model.train_step(data, wrapper)


def time_rows(settings: ModelStepSettings, precision: Precision, context: RunContext
              ) -> Tuple[Dict[str, float], Dict[str, Optional[int]]]:
    """Median seconds per step and peak memory of every row at one precision.

    GPU: one row after the other, each alone in memory, so that its peak is its own. CPU (no
    peak to measure): all rows built first and stepped round-robin
    (:func:`~benchmarks.timing.time_interleaved`), so that a shared machine's changing load
    does not bias the ratios.
    """
    if not context.on_gpu:
        steps = {row: training_step(row, settings, precision, context) for row in settings.rows}
        timings = time_interleaved(steps, context.device, settings.steps, settings.warmup)
        return {row: t.median for row, t in timings.items()}, dict.fromkeys(settings.rows)
    seconds, peaks = {}, {}
    for row in settings.rows:
        step = training_step(row, settings, precision, context)
        with PeakMemory(context.device) as peak:
            seconds[row] = time_calls(step, context.device, settings.steps,
                                      settings.warmup).median
        peaks[row] = peak.bytes
        del step
        torch.cuda.empty_cache()
    return seconds, peaks


def run(settings: ModelStepSettings, context: RunContext) -> SectionReport:
    """Time every row at every precision; ratios to the limit and to MoCo v2 side by side."""
    report = SectionReport(settings=[settings_line(settings, context)])
    table = Table(['precision / layout', 'method', 'images/s', 'ms/step', 'peak MiB',
                   'vs limit (supervised)', 'vs MoCo v2'])
    for name in settings.precisions:
        precision = Precision(name)
        seconds, peaks = time_rows(settings, precision, context)
        rates = {row: settings.batch / seconds[row] for row in settings.rows}
        for row in settings.rows:
            table.add(precision.label, row, rates[row], 1000 * settings.batch / rates[row],
                      megabytes(peaks[row]), ratio(rates[row], rates.get(SUPERVISED)),
                      ratio(rates[row], rates.get(MOCO_V2)))
        report.targets += [
            at_least(f'MEJigClu >= 0.9x the limit ({precision.label})',
                     ratio(rates.get(MEJIGCLU), rates.get(SUPERVISED)), 0.9, gpu_only=True),
            at_least(f'MEJigClu >= 1.3x MoCo v2 ({precision.label})',
                     ratio(rates.get(MEJIGCLU), rates.get(MOCO_V2)), 1.3, gpu_only=True)]
    report.tables.append(table)
    patch = settings.image_size // 2
    report.notes += [
        f'images/s = batch / median step time; one image = one MEJigClu/JigClu montage of 2 x 2 '
        f'uint8 patches of {patch} px, one MoCo v2 pair of {settings.image_size} px views, one '
        f'supervised {settings.image_size} px image. The supervised ResNet is the limit: the '
        'same backbone FLOPs per image as a montage.',
        'The step is model.train_step (mmengine; data preprocessor + forward + backward + SGD '
        'step) on uint8 inputs already on the device. MEJigClu / JigClu rows INCLUDE the '
        'device-side photometric augmentation (PatchPhotometric on every patch, from the '
        'recipe the data samples carry) and the montage exchange / stitch; the "w/o device aug" '
        'row is the same step with the recipe marked as done on the CPU.',
        'bf16 = torch.autocast(bfloat16) around the forward, as AmpOptimWrapper does; '
        'channels-last = model.to(memory_format=torch.channels_last), as ChannelsLastHook does. '
        'peak MiB = torch.cuda.max_memory_allocated over the steps, one model in memory at a '
        'time (n/a on the CPU, where all rows are built first and stepped round-robin so that '
        'a changing background load hits every row alike).',
    ]
    if not context.on_gpu:
        report.notes.append('A CPU without native bf16 (no avx512_bf16 / AMX, like the '
                            'development machine) emulates it: its bf16 rows say little about a '
                            'GPU, and the targets are stated for GPUs.')
    return report


SECTION = Section(
    name='model',
    title='(a) model step: images/s and peak memory, MEJigClu vs JigClu vs MoCo v2 vs supervised',
    description="""\
Forward + backward + SGD step (mmengine train_step) with inputs already on the device, for
MEJigClu and JigClu (this repo's configs; the step includes the device-side photometric
augmentation, plus a MEJigClu row without it), mmpretrain's MoCo v2 (its own config, two views
per image) and a supervised ResNet (the limit: same backbone FLOPs per image); in fp32 NCHW,
bf16 autocast NCHW and bf16 + channels-last. Columns: ratios to the limit and to MoCo v2.
Targets (GPU): MEJigClu >= 0.9x the limit, >= 1.3x MoCo v2.""",
    settings=ModelStepSettings,
    run=run,
    cuda_defaults=dict(depth=50, batch=256, image_size=224, steps=10, warmup=3),
)
