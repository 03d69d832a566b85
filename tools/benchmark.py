"""Side-by-side speed of MEJigClu / JigClu, the measurements behind the method's cost claim.

Three sections, each timed in one run and reported as ratios:

- ``model``: one training step (mmengine ``train_step``: data preprocessor incl. the montage
  exchange and the device-side photometric recipe, forward, backward, SGD) of MEJigClu, JigClu,
  mmpretrain's MoCo v2 and a supervised ResNet (the limit: the same backbone FLOPs per image as
  one montage), in fp32, bf16 and bf16 + channels-last; images/s, ratios to the limit and to
  MoCo v2, peak memory on a GPU. Targets (GPU): MEJigClu >= 0.9x the limit, >= 1.3x MoCo v2.
- ``e2e``: tools/train.py's path (Runner, dataloader workers, a folder of photos) with the recipe
  on the device and in the workers (the CPU fallback); images/s and the ratio to the same
  Runner's model step. Target (GPU): >= 0.8x the model step.
- ``cpu``: the CPU pipeline per image and core, decode excluded: ours (bilinear and area
  resizing, and the CPU fallback), the reference JigClu recipe in torchvision / PIL, and
  mmpretrain's supervised RandomResizedCrop + flip. Targets: <= 1.5x the supervised cost,
  >= 2x the reference images/s.

    python tools/benchmark.py                                   # CPU sizes (a few minutes)
    python tools/benchmark.py --device cuda                     # the paper's sizes
    python tools/benchmark.py --only model --options model.depth=50 model.batch=16

Sizes: ``--options SECTION.KEY=VALUE`` (values as typed, mejigclu_mm.cli.dict_action) over
:data:`DEFAULTS`. Timings use ``torch.utils.benchmark``; on the CPU the rows of a section take
turns step by step, so that a changing background load hits every row alike. docs/speed.md
holds the figures.
"""
import argparse
import copy
import os
import random
import sys
import tempfile
from pathlib import Path
from statistics import median
from typing import Callable, Dict, List

import numpy as np
import torch
from mmengine.config import Config
from torch.utils.benchmark import Timer

import mejigclu_mm  # noqa: F401
from mejigclu_mm.cli.dict_action import DictAction
from mejigclu_mm.runtime.known_warnings import quiet_known_warnings
from mejigclu_mm.utils.offline_data import offline_data_dir

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = {
    'MEJigClu': str(ROOT / 'configs/mejigclu/mejigclu_resnet50_4xb64-coslr-200e_in1k.py'),
    'JigClu': str(ROOT / 'configs/jigclu/jigclu_resnet50_4xb64-coslr-200e_in1k.py'),
    'MoCo v2': 'mmpretrain::mocov2/mocov2_resnet50_8xb32-coslr-200e_in1k.py',
    'supervised': 'mmpretrain::resnet/resnet50_8xb32_in1k.py',
}
PRECISIONS = ('fp32', 'bf16', 'bf16+channels-last')
# CPU sizes; --device cuda uses the paper's (CUDA_SIZES on top).
DEFAULTS = dict(
    model=dict(depth=18, batch=8, image_size=64, steps=5, warmup=1,
               precisions=list(PRECISIONS)),
    e2e=dict(config=CONFIGS['MEJigClu'], depth=18, batch=8, patch_size=32, workers=2,
             steps=4, warmup=2, image_dir=None),
    cpu=dict(images=20, samples=60, warmup=5, image_dir=None))
CUDA_SIZES = dict(model=dict(depth=50, batch=256, image_size=224, steps=10, warmup=3),
                  e2e=dict(depth=50, batch=256, patch_size=112, workers=15, steps=30,
                           warmup=10),
                  cpu=dict(samples=200, warmup=10))


def build_model(method: str, depth: int, batch: int, device: str) -> torch.nn.Module:
    """The method's model from its config (depth and the widths that follow changed; MEJigClu's
    classes = the batch; SyncBN as BN, one process), in train mode on ``device``."""
    from mmengine.hub import get_config
    from mmengine.model import revert_sync_batchnorm
    from mmengine.registry import init_default_scope

    from mmpretrain.registry import MODELS
    path = CONFIGS[method]
    cfg = get_config(path) if path.startswith('mmpretrain::') else Config.fromfile(path)
    model = copy.deepcopy(cfg.model)
    model.backbone.depth = depth
    width = 512 if depth < 50 else 2048
    for part in ('heads', 'neck', 'head'):  # every input / hidden width of 2048 follows
        for node in _config_nodes(model.get(part)):
            for key in ('in_channels', 'hid_channels'):
                if node.get(key) == 2048:
                    node[key] = width
    if 'cls' in model.get('heads', {}):
        model.heads.cls.num_classes = batch
    if cfg.get('data_preprocessor') is not None:  # as the Runner merges it
        model.setdefault('data_preprocessor', cfg.data_preprocessor)
    init_default_scope('mmpretrain')
    return revert_sync_batchnorm(MODELS.build(model)).to(device).train()


def _config_nodes(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _config_nodes(value)


def synthetic_batch(method: str, batch: int, size: int, device: str) -> dict:
    """uint8 inputs as the dataloader delivers them: 2 x 2 patch batches of size / 2 px, two
    MoCo views, or one supervised image with a label."""
    from mmpretrain.structures import DataSample
    generator = torch.Generator().manual_seed(0)

    def images(side):
        return torch.randint(0, 256, (batch, 3, side, side), dtype=torch.uint8,
                             generator=generator).to(device)

    samples = [DataSample().set_gt_label(i % 1000).to(device) for i in range(batch)]
    if method in ('MEJigClu', 'JigClu'):
        return dict(inputs=[images(size // 2) for _ in range(4)], data_samples=None)
    if method == 'MoCo v2':
        return dict(inputs=[images(size), images(size)], data_samples=samples)
    return dict(inputs=images(size), data_samples=samples)


def training_step(method: str, sizes: dict, precision: str, device: str) -> Callable:
    """``model.train_step`` of one method at one precision, ready to call."""
    from mmengine.optim import OptimWrapper
    torch.manual_seed(0)
    model = build_model(method, sizes['depth'], sizes['batch'], device)
    if precision.endswith('channels-last'):  # what ChannelsLastHook does
        model.to(memory_format=torch.channels_last)
        if hasattr(model.data_preprocessor, 'channels_last_devices'):  # montages in NHWC too
            model.data_preprocessor.channels_last_devices = (torch.device(device).type, )
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.03, momentum=0.9,
                                           weight_decay=1e-4))
    data = synthetic_batch(method, sizes['batch'], sizes['image_size'], device)
    autocast = precision != 'fp32'

    def step():
        with torch.autocast(device, dtype=torch.bfloat16, enabled=autocast):
            model.train_step(data, wrapper)
    return step


def time_side_by_side(calls: Dict[str, Callable], steps: int, warmup: int, device: str,
                      interleave: bool) -> Dict[str, float]:
    """Median seconds per call of every entry; entries take turns when ``interleave``."""
    timers = {name: Timer('call()', globals=dict(call=call)) for name, call in calls.items()}
    for timer in timers.values():
        for _ in range(warmup):
            timer.timeit(1)
    seconds = {name: [] for name in calls}
    rounds = [list(calls)] * steps if interleave else [[name] * steps for name in calls]
    for names in rounds:
        for name in names:
            seconds[name].append(timers[name].timeit(1).median)
    return {name: median(values) for name, values in seconds.items()}


def model_section(sizes: dict, device: str) -> List[str]:
    lines = ['| precision | method | images/s | ms/step | peak MiB | vs limit (supervised) | '
             'vs MoCo v2 |', '|---|---|---|---|---|---|---|']
    for precision in sizes['precisions']:
        if precision not in PRECISIONS:
            raise SystemExit(f'model.precisions: {precision!r} is none of {PRECISIONS}')
        seconds, peaks = {}, {}
        if device == 'cuda':  # one model in memory at a time: its own peak
            for method in CONFIGS:
                torch.cuda.empty_cache()
                torch.cuda.reset_peak_memory_stats()
                seconds.update(time_side_by_side(
                    {method: training_step(method, sizes, precision, device)}, sizes['steps'],
                    sizes['warmup'], device, interleave=False))
                peaks[method] = f'{torch.cuda.max_memory_allocated() / 2**20:.0f}'
        else:
            steps = {m: training_step(m, sizes, precision, device) for m in CONFIGS}
            seconds = time_side_by_side(steps, sizes['steps'], sizes['warmup'], device, True)
        rates = {m: sizes['batch'] / s for m, s in seconds.items()}
        for method, rate in rates.items():
            lines.append(f'| {precision} | {method} | {rate:.1f} | '
                         f'{1000 * seconds[method]:.2f} | {peaks.get(method, "n/a")} | '
                         f'{rate / rates["supervised"]:.2f}x | {rate / rates["MoCo v2"]:.2f}x |')
    patch = sizes['image_size'] // 2
    return lines + ['', f'ResNet-{sizes["depth"]}, {sizes["batch"]} images per step; one image '
                        f'= one montage of 2 x 2 uint8 patches of {patch} px (MEJigClu, JigClu), '
                        f'two {sizes["image_size"]} px views (MoCo v2) or one '
                        f'{sizes["image_size"]} px image (supervised). The jigsaw rows include '
                        'the exchange, the photometric recipe and the stitch.']


def e2e_config(sizes: dict, recipe_on: str, data_root: str, work_dir: str) -> Config:
    """tools/train.py's config for a few iterations on a folder of photos."""
    from train import merge_args
    cfg = Config.fromfile(sizes['config'])
    recipe = cfg.model.data_preprocessor.pop('photometric')
    split = next(t for t in cfg.train_dataloader.dataset.pipeline if t.type == 'JigsawSplit')
    split.patch_size = sizes['patch_size']
    if recipe_on == 'cpu':  # the CPU fallback: the same recipe, in the workers
        split.photometric = recipe
    else:
        cfg.model.data_preprocessor.photometric = recipe
    cfg.train_dataloader.dataset = dict(type='CustomDataset', data_root=data_root,
                                        with_label=False,
                                        pipeline=cfg.train_dataloader.dataset.pipeline)
    cfg.custom_hooks = [h for h in cfg.get('custom_hooks', []) if h.type != 'KNNMonitorHook']
    cfg.model.backbone.depth = sizes['depth']
    width = 512 if sizes['depth'] < 50 else 2048
    for node in _config_nodes(cfg.model.heads):
        for key in ('in_channels', 'hid_channels'):
            if node.get(key) == 2048:
                node[key] = width
    if 'cls' in cfg.model.heads:
        cfg.model.heads.cls.num_classes = sizes['batch']
    options = {'train_dataloader.batch_size': sizes['batch'],
               'train_dataloader.num_workers': sizes['workers'],
               'train_dataloader.persistent_workers': sizes['workers'] > 0,
               'train_cfg': dict(_delete_=True, type='IterBasedTrainLoop',
                                 max_iters=sizes['warmup'] + sizes['steps']),
               'param_scheduler': [], 'default_hooks.checkpoint': None,
               'default_hooks.logger.interval': 10**6, 'log_level': 'WARNING',
               'randomness': dict(seed=0), 'experiment_name': f'benchmark_e2e_{recipe_on}'}
    args = argparse.Namespace(launcher='none', work_dir=work_dir, no_validate=True, resume=None,
                              amp=False, amp_dtype=None, cfg_options=options, overwrite=True)
    return merge_args(cfg, args)


def e2e_section(sizes: dict, device: str) -> List[str]:
    from mmengine.runner import Runner
    photos = image_paths(sizes['image_dir'])
    lines = ['| photometric recipe | images/s | data_time share | model step images/s | '
             'e2e / model step |', '|---|---|---|---|---|']
    with tempfile.TemporaryDirectory(prefix='benchmark_e2e_') as tmp:
        data_root = Path(tmp, 'images')
        data_root.mkdir()
        for index in range((sizes['warmup'] + sizes['steps'] + 1) * sizes['batch']):
            os.symlink(photos[index % len(photos)], data_root / f'{index:06d}.jpg')
        for recipe_on in ('device', 'cpu'):
            cfg = e2e_config(sizes, recipe_on, str(data_root), str(Path(tmp, recipe_on)))
            runner = Runner.from_cfg(cfg)
            runner.train()
            hub = runner.message_hub
            times = hub.get_scalar('train/time').data[0][sizes['warmup']:]
            waits = hub.get_scalar('train/data_time').data[0][sizes['warmup']:]
            data = next(iter(runner.train_dataloader))
            step = time_side_by_side(
                {'model': lambda: runner.model.train_step(data, runner.optim_wrapper)},
                sizes['steps'], 1, device, interleave=False)['model']
            rate, model_rate = sizes['batch'] / np.mean(times), sizes['batch'] / step
            lines.append(f'| {recipe_on} | {rate:.1f} | {100 * np.sum(waits) / np.sum(times):.0f}'
                         f'% | {model_rate:.1f} | {rate / model_rate:.2f}x |')
    return lines + ['', f'{Path(sizes["config"]).name} through tools/train.py\'s merge_args and '
                        f'mmengine\'s Runner, ResNet-{sizes["depth"]}, {sizes["batch"]} images '
                        f'of {len(photos)} photos, {sizes["workers"]} workers, patches of '
                        f'{sizes["patch_size"]} px; images/s from the Runner\'s iteration times '
                        f'after {sizes["warmup"]} warm-up iterations.']


def image_paths(image_dir=None) -> List[Path]:
    """The photos of ``image_dir``, by default foolbox's 20 ImageNet photos (512 x 512)."""
    if image_dir is None:
        return sorted(offline_data_dir('foolbox').glob('imagenet_*.jpg'))
    from mejigclu_mm.datasets.folder_images import find_images  # the project's one rule
    paths = [(Path(image_dir) / p).resolve() for p in find_images(str(image_dir)).images]
    if not paths:
        raise SystemExit(f'benchmark: no images in {image_dir}')
    return paths


def reference_recipe(patch_size: int = 112) -> Callable:
    """The reference JigClu recipe (its data loading, written with torchvision / PIL): 2 x 2
    patches at overlap 0.3, each through MoCo v2's transforms, normalised float tensors."""
    from PIL import ImageFilter
    from torchvision import transforms as T

    from mejigclu_mm.datasets.transforms import jigsaw_boxes
    blur = T.Lambda(lambda im: im.filter(ImageFilter.GaussianBlur(random.uniform(0.1, 2.0))))
    per_patch = T.Compose([
        T.RandomResizedCrop(patch_size, scale=(0.2, 1.)),
        T.RandomApply([T.ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8), T.RandomGrayscale(p=0.2),
        T.RandomApply([blur], p=0.5), T.RandomHorizontalFlip(), T.ToTensor(),
        T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
    return lambda image: [per_patch(image.crop(tuple(int(v) for v in box)))
                          for box in jigsaw_boxes(image.height, image.width, 2, 0.3)]


def cpu_section(sizes: dict, device: str) -> List[str]:
    import cv2
    import mmcv
    from mmengine.hub import get_config
    from PIL import Image

    from mmpretrain.registry import TRANSFORMS
    # decoded as the configs' loader decodes them: RGB
    photos = [mmcv.imread(str(p), channel_order='rgb')
              for p in image_paths(sizes['image_dir'])[:sizes['images']]]
    pil_photos = [Image.fromarray(p) for p in photos]

    def pipeline(config_pipeline, **split_changes):
        steps = [TRANSFORMS.build(dict(t, **split_changes) if t.type == 'JigsawSplit' else t)
                 for t in config_pipeline if 'LoadImage' not in t.type]
        counter = iter(range(10**9))

        def run():
            index = next(counter)
            results = dict(img=photos[index % len(photos)], img_path=f'{index}',
                           img_channel_order='rgb', sample_idx=index)
            for step in steps:
                results = step(results)
        return run

    ours = Config.fromfile(CONFIGS['MEJigClu'])
    recipe = dict(ours.model.data_preprocessor.photometric)
    ours = ours.train_dataloader.dataset.pipeline
    supervised = get_config(CONFIGS['supervised']).train_dataloader.dataset.pipeline
    reference, counter = reference_recipe(), iter(range(10**9))
    calls = {'ours: JigsawSplit geometry (recipe on the device)': pipeline(ours),
             "ours, interpolation='area'": pipeline(ours, interpolation='area'),
             'ours, CPU fallback (recipe in the worker)': pipeline(ours, photometric=recipe),
             'reference JigClu recipe (torchvision / PIL)':
                 lambda: reference(pil_photos[next(counter) % len(pil_photos)]),
             'supervised RandomResizedCrop(224) + flip': pipeline(supervised)}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    try:
        seconds = time_side_by_side(calls, sizes['samples'], sizes['warmup'], 'cpu', True)
    finally:
        torch.set_num_threads(threads)
    lines = ['| pipeline (per image, decode excluded) | images/s per core | ms/image | '
             'vs supervised cost | vs reference images/s |', '|---|---|---|---|---|']
    base, ref = seconds['supervised RandomResizedCrop(224) + flip'], \
        seconds['reference JigClu recipe (torchvision / PIL)']
    for name, value in seconds.items():
        lines.append(f'| {name} | {1 / value:.0f} | {1000 * value:.2f} | {value / base:.2f}x | '
                     f'{ref / value:.2f}x |')
    return lines + ['', f'{len(photos)} photos decoded up front; one thread; median over '
                        f'{sizes["samples"]} images each, the pipelines taking turns.']


SECTIONS = dict(model=model_section, e2e=e2e_section, cpu=cpu_section)


def sizes_for(device: str, options: dict) -> Config:
    """:data:`DEFAULTS` for the device with ``--options`` applied; unknown keys refused."""
    sizes = Config(copy.deepcopy(DEFAULTS))
    if device == 'cuda':
        sizes.merge_from_dict({f'{s}.{k}': v for s, keys in CUDA_SIZES.items()
                               for k, v in keys.items()})
    for key in options or {}:
        section, _, name = key.partition('.')
        if section not in DEFAULTS or name not in DEFAULTS[section]:
            known = ', '.join(f'{s}.{k}' for s, keys in DEFAULTS.items() for k in keys)
            raise SystemExit(f'benchmark: unknown option {key!r}; known: {known}')
    sizes.merge_from_dict(options or {})
    return sizes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--only', nargs='+', choices=list(SECTIONS), default=list(SECTIONS))
    parser.add_argument('--device', choices=['cpu', 'cuda'], default='cpu')
    parser.add_argument('--options', nargs='+', action=DictAction, metavar='SECTION.KEY=VALUE',
                        help=f'sizes over the defaults: {DEFAULTS}')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch threads (default: 1 on the CPU for steady side-by-side '
                             'figures on a shared machine; 0: torch\'s own)')
    args = parser.parse_args(argv)
    quiet_known_warnings()
    if args.device == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('benchmark: --device cuda, but no CUDA device is available')
    sizes = sizes_for(args.device, args.options)
    threads = args.threads if args.threads is not None else (1 if args.device == 'cpu' else 0)
    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    hardware = torch.cuda.get_device_name() if args.device == 'cuda' else \
        f'CPU, {torch.get_num_threads()} torch threads'
    print(f'# tools/benchmark.py {" ".join(sys.argv[1:] if argv is None else argv)}\n\n'
          f'torch {torch.__version__}; {hardware}')
    try:
        for name in args.only:
            print(f'\n## {name}\n')
            torch.manual_seed(0)
            np.random.seed(0)
            random.seed(0)
            print('\n'.join(SECTIONS[name](sizes[name], args.device)), flush=True)
    finally:
        torch.set_num_threads(previous)
    return 0


if __name__ == '__main__':
    sys.exit(main())
