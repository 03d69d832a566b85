"""Write PNG grids of training montages as the network sees them, each slot annotated.

Usage:
    python tools/visualize_montage.py CONFIG [--out-dir DIR] [--batch-size N] [--num-batches K]
        [--image-dir DIR] [--cfg-options key=value ...]

The config's training pipeline splits the images (JigsawSplit); a batch then goes through the
model's data preprocessor exactly as in training (exchange, photometric augmentation where the
config runs it on the device, normalisation, stitch), and each slot is labelled
"i<source image> p<source position>". Files: DIR/montages_<k>.png, written atomically with
this tool's mark; an existing file is replaced only when this tool wrote it
(``mejigclu_mm.runtime.output_guard``). With --image-dir the images of a folder go through the
config's pipeline instead of the config's data set.
"""
import argparse
import os
import os.path as osp

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.dataset import default_collate  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

import mejigclu_mm  # noqa: E402,F401
from mejigclu_mm.cli.dict_action import DictAction  # noqa: E402
from mejigclu_mm.runtime.known_warnings import quiet_known_warnings  # noqa: E402
from mejigclu_mm.runtime.output_guard import check_output, save_figure  # noqa: E402
from mmpretrain.registry import DATASETS, MODELS  # noqa: E402

TOOL = 'tools/visualize_montage.py'


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be a positive integer, got {text}')
    return value


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Visualise JigClu / MEJigClu montages')
    parser.add_argument('config', help='a pretraining config')
    parser.add_argument('--out-dir', default='work_dirs/montages', help='where PNGs go')
    parser.add_argument('--batch-size', type=positive_int, default=8,
                        help='images (montages) per PNG')
    parser.add_argument('--num-batches', type=positive_int, default=1,
                        help='how many PNGs (at most as many as the images fill)')
    parser.add_argument('--image-dir', help='use the images of this folder instead of the '
                        "config's data set")
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    return parser.parse_args(argv)


def folder_pipeline(pipeline):
    """The config's pipeline for files on disk: a loading step first when it has none (e.g. the
    Fashion-MNIST configs, whose data set hands over decoded arrays)."""
    if pipeline and 'Load' in str(pipeline[0].get('type', '')):
        return pipeline
    return [dict(type='LoadImageFromFile')] + list(pipeline)


def draw(montages, source_image, source_position, grid, path):
    """Save the montages as one figure with a labelled slot grid."""
    count = montages.size(0)
    columns = min(count, 4)
    rows = (count + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(3 * columns, 3 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis('off')
    for k in range(count):
        img = montages[k].float()
        img = (img - img.min()) / (img.max() - img.min() + 1e-6)
        ax = axes.flat[k]
        ax.imshow(img.permute(1, 2, 0).squeeze(-1).numpy(), cmap='gray')
        height, width = img.shape[1:]
        for slot in range(grid * grid):
            row, col = divmod(slot, grid)
            index = slot * count + k
            ax.text(col * width / grid + 2, row * height / grid + 2,
                    f'i{int(source_image[index])} p{int(source_position[index])}',
                    color='yellow', fontsize=8, va='top',
                    bbox=dict(facecolor='black', alpha=0.5, pad=1))
        for line in range(1, grid):
            ax.axhline(line * height / grid - 0.5, color='white', lw=0.8)
            ax.axvline(line * width / grid - 0.5, color='white', lw=0.8)
        ax.set_title(f'montage {k}', fontsize=9)
    fig.tight_layout()
    save_figure(fig, path, TOOL, dpi=100)
    plt.close(fig)


def main(argv=None):
    quiet_known_warnings()
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    dataset_cfg = cfg.train_dataloader.dataset
    if args.image_dir:
        if not osp.isdir(args.image_dir):
            raise SystemExit(f'visualize_montage: --image-dir {args.image_dir} is no folder')
        dataset_cfg = dict(type='CustomDataset', data_root=args.image_dir, with_label=False,
                           pipeline=folder_pipeline(dataset_cfg.pipeline))
    dataset = DATASETS.build(dataset_cfg)
    model = MODELS.build(cfg.model)
    batches = min(args.num_batches, len(dataset) // args.batch_size)
    if batches == 0:
        raise SystemExit(f'visualize_montage: {len(dataset)} images cannot fill one batch of '
                         f'{args.batch_size}; lower --batch-size')
    if batches < args.num_batches:
        print(f'visualize_montage: {len(dataset)} images fill {batches} batches of '
              f'{args.batch_size}, not {args.num_batches}')
    for b in range(batches):  # every picture checked before any work is written
        check_output(osp.join(args.out_dir, f'montages_{b}.png'), TOOL, ('.png', ),
                     option='--out-dir')
    os.makedirs(args.out_dir, exist_ok=True)
    order = torch.randperm(len(dataset)).tolist()
    paths = []
    for b in range(batches):
        indices = order[b * args.batch_size:(b + 1) * args.batch_size]
        data = model.data_preprocessor(default_collate([dataset[i] for i in indices]), True)
        montages, targets = data['inputs'], data['data_samples']
        path = osp.join(args.out_dir, f'montages_{b}.png')
        draw(montages, targets.source_image, targets.source_position, targets.grid, path)
        paths.append(path)
        print(f'wrote {path}')
    return paths


if __name__ == '__main__':
    main()
