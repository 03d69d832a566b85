"""Fine-tune a detectron2 detector from a backbone converted by ``convert_weights.py``.

Usage:
    python tools/train_detectron2.py CONFIG.yaml --weights R50_D2.pkl [--work-dir DIR]
        [--num-gpus N] [--resume] [--eval-only] [--coco-dataset NAME JSON IMAGES]...
        [KEY VALUE ...]

CONFIG is a detectron2 YAML config, e.g. the JigClu recipes in
``configs/mejigclu/benchmarks/detectron2/``; a ``_BASE_`` that is not beside it is read from the
installed detectron2's model zoo. ``--weights`` is the ``.pkl`` of ``convert_weights.py SRC
R50_D2.pkl --to detectron2`` (it becomes ``MODEL.WEIGHTS``); the settings file written beside it
(``R50_D2.yaml``) says what the weights need, and a config that contradicts it (e.g.
detectron2's default ``STRIDE_IN_1X1: True``, BGR input, Caffe2's mean / std) is refused before
anything is built: with it the weights would load without a word and train worse. ``KEY VALUE``
pairs override the config as in detectron2's ``train_net.py`` (e.g. ``SOLVER.IMS_PER_BATCH 16``).
``--coco-dataset`` registers a COCO-format dataset under NAME for ``DATASETS.TRAIN`` / ``TEST``;
detectron2's built-in names (``coco_2017_train``, ``voc_2007_trainval``, ...) are read under
``$DETECTRON2_DATASETS`` (default ``./datasets``). The run writes into ``--work-dir`` (default
``work_dirs/<config name>``) and is evaluated on ``DATASETS.TEST`` at its end (COCO AP, or VOC's
AP50 for VOC sets). Exits 1 with the problem named when the config, the weights or their
settings are wrong.
"""
import argparse
import os.path as osp
import sys

from mejigclu_mm.transfer.detectron2_recipes import RecipeConfigError, detectron2_recipe_config
from mejigclu_mm.transfer.detectron2_settings import read_detectron2_settings, settings_conflicts


class WeightsSettingsError(ValueError):
    """The config contradicts what the weights need, or the weights cannot be checked."""


def settings_file(weights: str) -> str:
    """Where ``convert_weights.py --to detectron2`` wrote the settings of ``weights``."""
    return osp.splitext(weights)[0] + '.yaml'


def check_before_training(cfg, weights: str) -> None:
    """The one place where a (detectron2 config, weights) pair is checked before training.

    Today: the config agrees with the settings written beside the weights.

    Args:
        cfg (CfgNode): The merged config the run would use.
        weights (str): The ``.pkl`` the backbone is loaded from.

    Raises:
        WeightsSettingsError: the weights or their settings file is missing, or the config
            contradicts a setting the weights need.
    """
    if not osp.isfile(weights):
        raise WeightsSettingsError(f'--weights {weights}: no such file')
    settings_path = settings_file(weights)
    if not osp.isfile(settings_path):
        raise WeightsSettingsError(
            f'{settings_path} is missing: it says which detectron2 settings the weights {weights} '
            f'need (input format, mean / std, stride placement). Convert the checkpoint with '
            f'tools/convert_weights.py SRC {weights} --to detectron2, which writes both (SRC may '
            f'be any layout, detectron2 .pkl files included)')
    conflicts = settings_conflicts(cfg, read_detectron2_settings(settings_path))
    if conflicts:
        lines = '\n'.join(f'  {key}: the weights need {wanted!r}, the config has {found!r}'
                          for key, (wanted, found) in conflicts.items())
        raise WeightsSettingsError(
            f'the config contradicts the settings of {weights} ({settings_path}); with them the '
            f'weights load without a word and train worse:\n{lines}\nfix the config or pass the '
            f'values as KEY VALUE pairs')


def load_config(args):
    """The merged, frozen config of a run from the command line."""
    cfg = detectron2_recipe_config(args.config)
    cfg.merge_from_list(args.opts)
    cfg.MODEL.WEIGHTS = osp.abspath(args.weights)
    cfg.OUTPUT_DIR = args.work_dir or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.freeze()
    return cfg


def compiled_ops_available() -> bool:
    """False for mejigclu_mm's test stand-in of detectron2._C (no compiled ops)."""
    from detectron2 import _C
    return not hasattr(_C, 'STAND_IN')


def build_trainer_class():
    """detectron2's DefaultTrainer with the official JigClu script's evaluators."""
    from detectron2.data import MetadataCatalog
    from detectron2.engine import DefaultTrainer
    from detectron2.evaluation import COCOEvaluator, PascalVOCDetectionEvaluator

    class Trainer(DefaultTrainer):

        @classmethod
        def build_evaluator(cls, cfg, dataset_name, output_folder=None):
            kind = MetadataCatalog.get(dataset_name).evaluator_type
            if kind == 'coco':
                # the fast evaluator is compiled; pycocotools' own path gives the same AP
                return COCOEvaluator(dataset_name, output_dir=output_folder or osp.join(
                    cfg.OUTPUT_DIR, 'inference'), use_fast_impl=compiled_ops_available())
            if kind == 'pascal_voc':
                return PascalVOCDetectionEvaluator(dataset_name)
            raise NotImplementedError(f'no evaluator for dataset {dataset_name} of type {kind}')

    return Trainer


def run(cfg, args):
    """Train (or evaluate) in one process of the run; returns detectron2's results."""
    from detectron2.checkpoint import DetectionCheckpointer
    from detectron2.data.datasets import register_coco_instances
    from detectron2.engine import default_setup

    for name, json_file, images in args.coco_dataset:
        register_coco_instances(name, {}, json_file, images)
    default_setup(cfg, argparse.Namespace(config_file=args.config, eval_only=args.eval_only))
    trainer_class = build_trainer_class()
    if args.eval_only:
        model = trainer_class.build_model(cfg)
        DetectionCheckpointer(model, save_dir=cfg.OUTPUT_DIR).resume_or_load(
            cfg.MODEL.WEIGHTS, resume=args.resume)
        return trainer_class.test(cfg, model)
    trainer = trainer_class(cfg)
    trainer.resume_or_load(resume=args.resume)
    if not args.resume:  # a resumed run's backbone has trained on purpose
        guard_transfer(trainer.model, cfg, args.allow_transfer_mismatch)
    return trainer.train()


def guard_transfer(model, cfg, allow_mismatch: bool) -> None:
    """The transfer guard before the first step: the detector's ResNet computes what the
    weights' network computed on a real photo (one forward of each; docs/transfer.md).

    Raises:
        TransferGuardError: it does not, unless ``allow_mismatch``.
    """
    from mejigclu_mm.transfer.detectron2_guard import check_detectron2_model
    from mejigclu_mm.transfer.transfer_guard import TransferGuardError
    verdict = check_detectron2_model(getattr(model, 'module', model), cfg, cfg.MODEL.WEIGHTS)
    print(verdict.text(), flush=True)
    if not verdict.ok and not allow_mismatch:
        raise TransferGuardError(f'{verdict.text()}\nfix the setting named, or pass '
                                 f'--allow-transfer-mismatch if you mean it')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='detectron2 YAML config')
    parser.add_argument('--weights', required=True,
                        help='the .pkl of convert_weights.py --to detectron2 (MODEL.WEIGHTS)')
    parser.add_argument('--work-dir', help='output folder (default work_dirs/<config name>)')
    parser.add_argument('--num-gpus', type=int, default=1, help='processes on this machine')
    parser.add_argument('--resume', action='store_true', help='continue from the work dir')
    parser.add_argument('--eval-only', action='store_true', help='evaluate the weights only')
    parser.add_argument('--allow-transfer-mismatch', action='store_true',
                        help='train even when the transfer guard finds that the detector\'s '
                        'ResNet computes something else than the weights\' network')
    parser.add_argument('--coco-dataset', nargs=3, action='append', default=[],
                        metavar=('NAME', 'JSON', 'IMAGES'),
                        help='register a COCO-format dataset (repeatable)')
    parser.add_argument('opts', nargs=argparse.REMAINDER, help='KEY VALUE config overrides')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    for name, json_file, images in args.coco_dataset:
        for path in (json_file, images):
            if not osp.exists(path):
                print(f'train_detectron2: --coco-dataset {name}: {path} does not exist',
                      file=sys.stderr)
                return 1
    try:
        cfg = load_config(args)
        check_before_training(cfg, args.weights)
    except (RecipeConfigError, WeightsSettingsError, FileNotFoundError, KeyError, ValueError,
            AssertionError) as error:  # yacs: unknown key (KeyError), odd KEY VALUE list
        print(f'train_detectron2: {error}', file=sys.stderr)
        return 1
    from detectron2.engine import launch
    launch(run, args.num_gpus, dist_url='auto', args=(cfg, args))
    return 0


if __name__ == '__main__':
    sys.exit(main())
