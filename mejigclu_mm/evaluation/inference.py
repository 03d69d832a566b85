"""The whole-image (test) pipeline of a config, for inference on image files.

Classification configs (``configs/mejigclu/benchmarks/``, mmpretrain's) have one in ``test_dataloader``.
Pretraining configs cannot carry a ``test_dataloader`` (mmengine's Runner then wants a
``test_cfg`` and a ``test_evaluator`` too), so they name it in a top-level ``test_pipeline``.
:func:`inference_config` turns either into what mmpretrain's inferencers read, so that
``mmpretrain.apis.FeatureExtractor(inference_config(CONFIG), pretrained=CHECKPOINT)`` works on
every config of this project.
"""
import copy
from typing import List, Union

from mmengine.config import Config

# Steps that read the file: inference loads the image itself (mmpretrain's inferencers with
# mmcv.imread, tools/extract_features.py with mejigclu_mm.evaluation.image_files.read_image).
LOADING_TRANSFORMS = ('LoadImageFromFile', 'CheckedLoadImageFromFile')


def _as_config(config: Union[str, Config]) -> Config:
    return Config.fromfile(config) if isinstance(config, str) else config


def _test_dataset_pipeline(dataset: dict):
    """The pipeline of a dataset config, looking through wrappers (``dataset`` / ``datasets``)."""
    if 'pipeline' in dataset:
        return dataset['pipeline']
    if isinstance(dataset.get('dataset'), dict):
        return _test_dataset_pipeline(dataset['dataset'])
    if dataset.get('datasets'):
        return _test_dataset_pipeline(dataset['datasets'][0])
    return None


def _is_loading(transform: dict) -> bool:
    return str(transform.get('type', '')).split('.')[-1] in LOADING_TRANSFORMS


def inference_pipeline(config: Union[str, Config]) -> List[dict]:
    """The config's test pipeline without its image-loading step.

    Looked up in ``test_dataloader.dataset.pipeline`` (through dataset wrappers), else in the
    top-level ``test_pipeline``.

    Args:
        config (str | Config): A config file or a loaded config.

    Returns:
        list[dict]: Transform configs that take ``{'img', 'img_shape', 'ori_shape'}`` (a
        decoded H x W x 3 uint8 BGR image) and end in a packing step (e.g. ``PackInputs``).

    Raises:
        KeyError: the config has neither; the message says what to add.
    """
    cfg = _as_config(config)
    pipeline = None
    test_loader = cfg.get('test_dataloader')
    if isinstance(test_loader, dict) and isinstance(test_loader.get('dataset'), dict):
        pipeline = _test_dataset_pipeline(test_loader['dataset'])
    if pipeline is None:
        pipeline = cfg.get('test_pipeline')
    if not pipeline:
        raise KeyError(
            f'config {cfg.filename} has no test pipeline for whole images: neither '
            '`test_dataloader.dataset.pipeline` nor a top-level `test_pipeline`. Add one, e.g. '
            "test_pipeline = [dict(type='LoadImageFromFile'), dict(type='ResizeEdge', "
            "scale=256, edge='short'), dict(type='CenterCrop', crop_size=224), "
            "dict(type='PackInputs')]")
    return [copy.deepcopy(t) for t in pipeline if not _is_loading(t)]


def inference_config(config: Union[str, Config]) -> Config:
    """A copy of ``config`` that mmpretrain's ``FeatureExtractor`` and ``get_model`` accept.

    ``FeatureExtractor`` reads ``test_dataloader.dataset.pipeline``; this sets it to
    :func:`inference_pipeline` (so it also works on pretraining configs, which name theirs
    ``test_pipeline``; their new ``test_dataloader.dataset`` gets the training set's ``type``,
    where ``get_model`` looks for class names). The model and everything else are unchanged.
    The result is for inference only: a Runner would want a ``test_cfg`` and
    ``test_evaluator`` with it.

    Args:
        config (str | Config): A config file or a loaded config (not modified).

    Returns:
        Config: The copy.
    """
    cfg = copy.deepcopy(_as_config(config))
    pipeline = inference_pipeline(cfg)
    if isinstance(cfg.get('test_dataloader'), dict):
        cfg.test_dataloader.dataset = dict(cfg.test_dataloader.get('dataset') or {},
                                           pipeline=pipeline)
    else:
        # get_model reads the dataset's type for the model's class names (metainfo): the
        # training set's, which is all a pretraining config has.
        train_set = (cfg.get('train_dataloader') or {}).get('dataset') or {}
        cfg.test_dataloader = dict(dataset=dict(type=train_set.get('type', 'BaseDataset'),
                                                pipeline=pipeline))
    return cfg
