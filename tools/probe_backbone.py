"""Every deterministic probe of one frozen backbone, as one JSON: kNN and linear probe on a
classification config's data, and the dense probes on the Fashion-MNIST scenes.

Usage:
    python tools/probe_backbone.py CONFIG CHECKPOINT --out RESULT.json [--seed 0]
        [--scenes data/fashion_scenes] [--train-scenes N] [--test-split test]
        [--device DEV] [--cfg-options key=value ...]
    python tools/probe_backbone.py CONFIG none ...   # the random baseline of --seed

CONFIG and CHECKPOINT mean what they mean for tools/knn_eval.py (``none``: the network a
pretraining with ``randomness.seed=SEED`` starts from). kNN: k = 20, T = 0.07, the training
set as bank; probe: L-BFGS logistic regression, L2 chosen on a held-out fifth of the training
features (``mejigclu_mm.evaluation``). With ``--scenes``: the segmentation and box-naming
probes of ``mejigclu_mm.evaluation.dense_probes`` fitted on the training scenes, reported on
``--test-split``. ``--out`` is written atomically, only over an earlier result of this tool.
"""
import argparse
import json
import os.path as osp

import torch
from mmengine.config import Config

import mejigclu_mm  # noqa: F401  (registrations)
from mejigclu_mm.cli.dict_action import DictAction
from mejigclu_mm.evaluation.backbone_probes import probe_backbone
from mejigclu_mm.runtime.atomic_write import atomic_write
from mejigclu_mm.runtime.known_warnings import quiet_known_warnings
from mejigclu_mm.runtime.output_guard import check_output

KIND = 'mejigclu_mm probe_backbone result'


def _ours(path: str) -> bool:
    try:
        with open(path) as file:
            return json.load(file).get('kind') == KIND
    except (ValueError, UnicodeDecodeError, AttributeError):
        return False


def check_out(path: str, inputs) -> None:
    """Refuse an --out that is not .json, is an input, or an existing file this tool did not
    write (:func:`mejigclu_mm.runtime.output_guard.check_output`; its results say ``kind``)."""
    check_output(path, 'tools/probe_backbone.py', ('.json', ), inputs=inputs, is_own=_ours,
                 describe=lambda _: 'is not a result of this tool')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', help='backbone checkpoint, or "none" for the random '
                        'baseline of --seed')
    parser.add_argument('--out', required=True, help='the result, JSON')
    parser.add_argument('--seed', type=int, default=0, help='seed of the random baseline')
    parser.add_argument('--scenes', help='scenes folder for the dense probes '
                        '(tools/data/prepare_fashion_scenes.py)')
    parser.add_argument('--train-scenes', type=int, default=0,
                        help='training scenes the dense probes fit on (0: all)')
    parser.add_argument('--test-split', default='test', choices=['val', 'test'])
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    quiet_known_warnings()
    check_out(args.out, (args.config, args.checkpoint))
    if args.checkpoint.lower() != 'none' and not osp.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint {args.checkpoint} does not exist or is not a file')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    results = probe_backbone(cfg, args.checkpoint, args.seed, args.scenes, args.train_scenes,
                             args.test_split, args.device)
    results = dict(kind=KIND, config=args.config, checkpoint=args.checkpoint, seed=args.seed,
                   **results)
    metrics = ('knn', 'probe', 'seg_miou', 'seg_garment_miou', 'seg_fg_iou', 'naming')
    line = ', '.join(f'{k} {results[k]:.2f}' for k in metrics if k in results)
    print(f'{args.checkpoint} (seed {args.seed}): {line} ({results["seconds"]:.0f} s)')
    with atomic_write(args.out) as file:
        json.dump(results, file, indent=1)
    return results


if __name__ == '__main__':
    main()
