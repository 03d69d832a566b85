"""One feature per image of a folder: a config's backbone with a checkpoint, batched on a device.

Usage:
    python tools/extract_features.py CONFIG CHECKPOINT IMAGE_DIR --out FILE.npz|FILE.csv
        [--batch-size 64] [--num-workers 2] [--device DEV] [--prefix P] [--no-normalize]
        [--seed 0] [--cfg-options key=value ...]
    python tools/extract_features.py CONFIG none IMAGE_DIR --out ...   # a random backbone

CONFIG and CHECKPOINT mean what they mean for tools/knn_eval.py: any config of this project
(pretraining or linear) or of mmpretrain gives the backbone and its data preprocessor, the
checkpoint goes into the backbone (pretraining, classifier or converted file; ``none`` for a
random initialisation). IMAGE_DIR is listed by the rule ImageFolderDataset follows too
(``mejigclu_mm.datasets.folder_images``: images by their extension, any format OpenCV or PIL
reads, any size; sub-folders walked, each real folder once); the files it leaves out (other
extensions, hidden ones) and those that do not decode are listed with the reason. Each image
goes through the config's whole-image test pipeline (``mejigclu_mm.evaluation.inference``) and
gets the feature the kNN / probe tools use: the last backbone stage, global-average pooled,
L2-normalised (``--no-normalize``: as pooled).

Output (``mejigclu_mm.evaluation.feature_files``): ``.npz`` with ``paths`` (relative to
IMAGE_DIR), ``features`` (N x D float32), ``unreadable`` / ``errors`` and ``info``; or
``.csv`` with ``path,f0,f1,...`` rows. Written atomically; an existing FILE is replaced only
when it is such a features file, and FILE may not be an input or lie inside IMAGE_DIR.
"""
import argparse
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope
from torch.utils.data import DataLoader

import mejigclu_mm  # noqa: F401  (registrations)
from mejigclu_mm.cli.dict_action import DictAction
from mejigclu_mm.evaluation import RANDOM_INIT, build_frozen_classifier, pool_features
from mejigclu_mm.evaluation.feature_files import check_destination, save_features
from mejigclu_mm.evaluation.features import progress_bar
from mejigclu_mm.evaluation.image_files import ImageFiles, collate_readable
from mejigclu_mm.evaluation.inference import inference_pipeline
from mejigclu_mm.runtime.known_warnings import quiet_known_warnings
from mmpretrain.registry import TRANSFORMS


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config whose model gives the backbone (pretraining, '
                        'linear or any mmpretrain config) and whose test pipeline the images')
    parser.add_argument('checkpoint', help='checkpoint for the backbone (pretraining, '
                        f'classifier or converted file); "{RANDOM_INIT}" for a random backbone')
    parser.add_argument('image_dir', help='folder of images (sub-folders too), any sizes')
    parser.add_argument('--out', required=True,
                        help='FILE.npz (numpy: paths, features, unreadable, errors, info) or '
                        'FILE.csv (path,f0,f1,... rows)')
    parser.add_argument('--prefix', default='auto',
                        help='key prefix of the backbone in CHECKPOINT, as for tools/knn_eval.py')
    parser.add_argument('--batch-size', type=int, default=64, help='images per batch')
    parser.add_argument('--num-workers', type=int, default=2,
                        help='processes that decode and transform the images')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu',
                        help='device of the backbone (default: cuda if available)')
    parser.add_argument('--no-normalize', action='store_true',
                        help='keep the pooled features as they are (default: unit L2 norm)')
    parser.add_argument('--seed', type=int, default=0, help='seed of a random initialisation')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    args = parser.parse_args(argv)
    if args.batch_size < 1 or args.num_workers < 0:
        parser.error('--batch-size must be >= 1 and --num-workers >= 0')
    return args


def check_inputs(args) -> list:
    """The inputs (config, checkpoint, image folder), checked; the destination checked too."""
    if not osp.isfile(args.config):
        raise SystemExit(f'config {args.config} does not exist or is not a file')
    if not osp.isdir(args.image_dir):
        raise SystemExit(f'image folder {args.image_dir} does not exist or is not a folder')
    inputs = [args.config, args.image_dir]
    if args.checkpoint.lower() != RANDOM_INIT:
        if not osp.isfile(args.checkpoint):
            raise SystemExit(f'checkpoint {args.checkpoint} does not exist or is not a file')
        inputs.append(args.checkpoint)
    try:
        check_destination(args.out, inputs)
    except ValueError as error:
        raise SystemExit(str(error)) from None
    return inputs


@torch.no_grad()
def extract(model, loader, normalize: bool):
    """Features of every readable image of ``loader``; returns (paths, features, unreadable)."""
    paths, feats, unreadable = [], [], []
    with progress_bar(len(loader.dataset), 'features') as bar:
        for batch in loader:
            for path, error in batch['unreadable']:
                bar.write(f'unreadable, left out: {error}')
            unreadable += batch['unreadable']
            if batch['data'] is not None:
                data = model.data_preprocessor(batch['data'], False)
                feats.append(pool_features(model.backbone(data['inputs']), normalize).cpu())
                paths += batch['paths']
            bar.update(len(batch['paths']) + len(batch['unreadable']))
    return paths, feats, unreadable


def main(argv=None):
    quiet_known_warnings()
    args = parse_args(argv)
    inputs = check_inputs(args)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    try:
        pipeline = Compose([TRANSFORMS.build(t) for t in inference_pipeline(cfg)])
    except KeyError as error:
        raise SystemExit(error.args[0]) from None
    dataset = ImageFiles(args.image_dir, pipeline)
    if not len(dataset):
        raise SystemExit(f'image folder {args.image_dir} holds no files')
    model = build_frozen_classifier(cfg, args.checkpoint, prefix=args.prefix,
                                    device=args.device, seed=args.seed)
    loader = DataLoader(dataset, batch_size=args.batch_size, num_workers=args.num_workers,
                        collate_fn=collate_readable, shuffle=False)
    paths, feats, unreadable = extract(model, loader, not args.no_normalize)
    if not paths:
        raise SystemExit(f'none of the {len(dataset)} files in {args.image_dir} is an image '
                         'OpenCV or PIL can decode (see the list above); nothing written')
    features = torch.cat(feats).numpy()
    info = dict(config=osp.abspath(args.config), cfg_options=args.cfg_options,
                checkpoint=(RANDOM_INIT if args.checkpoint.lower() == RANDOM_INIT else
                            osp.abspath(args.checkpoint)),
                prefix=args.prefix, seed=args.seed, image_dir=osp.abspath(args.image_dir),
                backbone=cfg.model.backbone.type, normalized=not args.no_normalize,
                feature='last backbone stage, global-average pooled')
    save_features(args.out, paths, features, unreadable, info, inputs)
    print(f'{len(paths)} images, {features.shape[1]}-d features'
          f'{", L2-normalised" if not args.no_normalize else ""}; '
          f'{len(unreadable)} unreadable file(s) left out{" (listed above)" if unreadable else ""}')
    print(f'wrote {args.out}')
    return dict(paths=paths, features=features, unreadable=unreadable)


if __name__ == '__main__':
    main()
