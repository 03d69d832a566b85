"""Section ``e2e``: images/s through the real dataloader and Runner (tools/train.py's path)."""
import argparse
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple

import numpy as np
import torch

from .images import image_paths, repeated_image_folder
from .methods import JIGCLU, MEJIGCLU, ROOT, adapt_model_config, jigsaw_split_config
from .report import SectionReport, Table, at_least, ratio
from .section import RunContext, Section, setting, settings_line
from .timing import time_calls

PATHS = {'device': "device augmentation (photometric_on='device', default)",
         'cpu': "per-patch CPU path (photometric_on='cpu')"}


@dataclass
class EndToEndSettings:
    config: str = setting('configs/pretrain/mejigclu_resnet50_4xb64-coslr-200e_in1k.py',
                          'pretraining config (relative to the repository root)')
    depth: int = setting(18, 'ResNet depth (the config: 50)')
    batch: int = setting(8, 'images per step (classes and sampler follow)')
    patch_size: int = setting(32, 'JigsawSplit patch_size, px (montages: twice that); 0 keeps '
                                  "the config's")
    dataset: str = setting('photos', "'photos' (a folder of images, see image_dir) or 'config' "
                                     "(the config's own training set, e.g. Fashion-MNIST)")
    workers: int = setting(2, 'dataloader workers (num_workers)')
    precision: str = setting('fp32', "'fp32' or 'bf16' (tools/train.py --amp-dtype bfloat16, "
                                     'GPU only); the config\'s ChannelsLastHook stays on')
    steps: int = setting(4, 'timed training iterations')
    warmup: int = setting(2, 'untimed iterations first (worker start-up, allocator)')
    model_steps: int = setting(2, 'timed model-only steps for the ratio (same Runner, batch on '
                                  'the device)')
    image_dir: Optional[str] = setting(None, 'folder of photos (default: foolbox ImageNet, '
                                             '512 x 512)')
    images: int = setting(0, 'files in the temporary data set (0: (warmup + steps) x batch, '
                             'photos repeated)')
    paths: Tuple[str, ...] = setting(tuple(PATHS), 'augmentation paths timed: device, cpu')


def training_config(settings: EndToEndSettings, photometric_on: str, data_root: Path,
                    work_dir: Path, seed: int):
    """The config as tools/train.py would run it on a folder of photos, for a few iterations."""
    from mmengine.config import Config

    from train import check_amp, merge_args
    cfg = Config.fromfile(str(ROOT / settings.config))
    split = jigsaw_split_config(cfg)
    split.photometric_on = photometric_on
    if settings.patch_size:
        split.patch_size = settings.patch_size
    if settings.dataset == 'photos':
        pipeline = cfg.train_dataloader.dataset.pipeline
        cfg.train_dataloader.dataset = dict(type='CustomDataset', data_root=str(data_root),
                                            with_label=False, pipeline=pipeline)
    elif settings.dataset != 'config':
        raise ValueError(f"e2e.dataset must be 'photos' or 'config', got {settings.dataset!r}")
    # the online kNN monitor is no part of a training step
    cfg.custom_hooks = [h for h in cfg.get('custom_hooks') or []
                        if h.get('type') != 'KNNMonitorHook']
    method = MEJIGCLU if 'cls' in cfg.model.get('heads', {}) else JIGCLU
    adapt_model_config(cfg.model, method, settings.depth, settings.batch)
    options = {
        'train_dataloader.batch_size': settings.batch,
        'train_dataloader.num_workers': settings.workers,
        'train_dataloader.persistent_workers': settings.workers > 0,
        'train_cfg': dict(_delete_=True, type='IterBasedTrainLoop',
                          max_iters=settings.warmup + settings.steps),
        'param_scheduler': [],
        'default_hooks.checkpoint': None,
        'default_hooks.logger.interval': 10**6,
        'log_level': 'WARNING',
        'randomness': dict(seed=seed),
        'experiment_name': f'benchmark_e2e_{photometric_on}_{uuid.uuid4().hex[:8]}',
    }
    if cfg.train_dataloader.sampler.get('type') == 'DisjointSubsetSampler':
        options['train_dataloader.sampler.batch_size'] = settings.batch
    args = argparse.Namespace(
        launcher='none', work_dir=str(work_dir), no_validate=True, resume=None,
        amp=settings.precision == 'bf16',
        amp_dtype='bfloat16' if settings.precision == 'bf16' else None, cfg_options=options)
    cfg = merge_args(cfg, args)
    check_amp(cfg)
    return cfg


def run_path(settings: EndToEndSettings, photometric_on: str, data_root: Path,
             context: RunContext) -> dict:
    """Train a few iterations with mmengine's Runner; then time the model step alone."""
    from mmengine.runner import Runner
    with tempfile.TemporaryDirectory(prefix='benchmark_e2e_work_') as work_dir:
        cfg = training_config(settings, photometric_on, data_root, Path(work_dir), context.seed)
        runner = Runner.from_cfg(cfg)
        runner.train()
        hub = runner.message_hub
        iteration = hub.get_scalar('train/time').data[0][settings.warmup:]
        data_waits = hub.get_scalar('train/data_time').data[0][settings.warmup:]
        batch = next(iter(runner.train_dataloader))
        model = runner.model
        on_device = model.data_preprocessor.cast_data(batch)
        step = time_calls(lambda: model.train_step(on_device, runner.optim_wrapper),
                          context.device, settings.model_steps, warmup=1)
        del runner, model, batch, on_device
    return dict(seconds=float(np.mean(iteration)),
                data_share=float(np.sum(data_waits) / np.sum(iteration)),
                model_seconds=step.median)


def run(settings: EndToEndSettings, context: RunContext) -> SectionReport:
    """Both augmentation paths through the same Runner setup, side by side."""
    if settings.precision not in ('fp32', 'bf16'):
        raise ValueError(f"e2e.precision must be 'fp32' or 'bf16', got {settings.precision!r}")
    if settings.precision == 'bf16' and not context.on_gpu:
        raise ValueError("e2e.precision='bf16' runs tools/train.py's --amp-dtype bfloat16, "
                         "which mmengine's AmpOptimWrapper allows on a GPU only; use fp32 here")
    count = settings.images or (settings.warmup + settings.steps) * settings.batch
    report = SectionReport()
    table = Table(['augmentation path', 'images/s', 's/iteration', 'data_time share',
                   'model step images/s (same Runner)', 'e2e / model step'])
    with tempfile.TemporaryDirectory(prefix='benchmark_e2e_data_') as folder:
        data_root, data = None, "the config's training set"
        if settings.dataset == 'photos':
            paths = image_paths(settings.image_dir)
            data_root = repeated_image_folder(paths, count, Path(folder))
            data = f'{count} files repeating {len(paths)} photos of {paths[0].parent}'
        report.settings.append(settings_line(settings, context, extra=dict(data=data)))
        results = {}
        for name in settings.paths:
            if name not in PATHS:
                raise ValueError(f'e2e.paths: unknown path {name!r} (known: {", ".join(PATHS)})')
            torch.manual_seed(context.seed)
            results[name] = result = run_path(settings, name, data_root, context)
            rate, model_rate = settings.batch / result['seconds'], \
                settings.batch / result['model_seconds']
            result['ratio'] = ratio(rate, model_rate)
            table.add(PATHS[name], rate, result['seconds'], f'{100 * result["data_share"]:.0f}%',
                      model_rate, f'{result["ratio"]:.2f}x')
    report.tables.append(table)
    if 'device' in results:
        report.targets.append(at_least('end-to-end >= 0.8x the model step (device path)',
                                       results['device']['ratio'], 0.8, gpu_only=True))
    report.notes += [
        "tools/train.py's path: Config.fromfile, train.merge_args (hooks RandomStateHook and "
        'DataloaderCheckHook added, --amp-dtype for bf16), mmengine Runner with the config\'s '
        'LoadImageFromFile -> JigsawSplit -> PackInputs on a CustomDataset of the photos, '
        'IterBasedTrainLoop; checkpoints and the LR schedule off.',
        'images/s = batch / mean iteration time (mmengine IterTimerHook\'s "time") over the '
        'timed iterations; data_time share = sum(data_time) / sum(time), the time the loop '
        'waited for the dataloader.',
        'model step = the same Runner\'s model.train_step on one batch already on the device '
        '(section model\'s measurement, for this config, precision and layout). The two paths '
        'run one after the other (a Runner each), not interleaved.',
    ]
    if not context.on_gpu:
        report.notes.append('On the CPU the workers, the device-side augmentation and the model '
                            'share the same cores, so the paths compete for them; the 0.8x '
                            'target is stated for a GPU.')
    return report


SECTION = Section(
    name='e2e',
    title='(b) end to end: images/s through the dataloader and the Runner',
    description="""\
tools/train.py's path (mmengine Runner from the MEJigClu config, CustomDataset on a folder of
photos repeated into a temporary folder) for the device-augmentation path and the per-patch
CPU path (train_dataloader.dataset.pipeline.<JigsawSplit>.photometric_on=cpu); images/s,
data_time share, and the ratio to the same Runner's model step (target on GPU: >= 0.8x).""",
    settings=EndToEndSettings,
    run=run,
    cuda_defaults=dict(depth=50, batch=256, patch_size=112, workers=15, precision='bf16',
                       steps=30, warmup=10, model_steps=10),
)
