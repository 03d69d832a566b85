"""A classification config's backbone with a checkpoint, and its labelled data, for evaluation.

What ``tools/knn_eval.py`` and ``tools/linear_probe.py`` share: CONFIG is a classification
config (e.g. ``configs/mejigclu/benchmarks/*.py`` or any mmpretrain one) whose model gives the
backbone and data preprocessor and whose dataloaders give the labelled images; CHECKPOINT goes
into the backbone, ``none`` gives the random baseline.
"""
import copy
import inspect
import logging
import os.path as osp
from typing import Optional

import torch
from mmengine.config import Config, ConfigDict
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from mejigclu_mm.evaluation.features import extract_features
from mejigclu_mm.models.utils import init_from_seed
from mejigclu_mm.runtime.hooks import ChannelsLastHook
from mejigclu_mm.transfer import read_checkpoint_weights, resolve_backbone
from mejigclu_mm.transfer.strict_pretrained import StrictPretrainedInit
from mmpretrain.registry import MODELS

RANDOM_INIT = 'none'
AUTO_PREFIX = 'auto'


def checkpoint_prefix(checkpoint: str) -> str:
    """Where ``checkpoint`` holds its ResNet backbone, as its keys are stored.

    ``'backbone.'`` for ours and mmpretrain's, ``'module.encoder.'`` for the official JigClu
    file, ``''`` for a backbone alone (:func:`mejigclu_mm.transfer.resolve_backbone`).

    Args:
        checkpoint (str): Checkpoint file.

    Returns:
        str: The prefix for ``--prefix`` / ``init_cfg=dict(type='StrictPretrained', prefix=...)``.
    """
    return resolve_backbone(read_checkpoint_weights(checkpoint)).prefix


def converts_to_channels_last(cfg: Config, device: str) -> bool:
    """Whether the config's runs would put the model in channels-last layout on ``device``.

    The rule of :class:`~mejigclu_mm.runtime.hooks.ChannelsLastHook`: the config lists the hook,
    its ``convert`` is on and ``device``'s type is one of its ``devices``.

    Args:
        cfg (Config): The config.
        device (str): The device the model goes to, e.g. 'cpu', 'cuda:1'.
    """
    defaults = inspect.signature(ChannelsLastHook).parameters
    for hook in cfg.get('custom_hooks') or ():
        if isinstance(hook, dict) and str(hook.get('type')).split('.')[-1] == 'ChannelsLastHook':
            devices = tuple(hook.get('devices', defaults['devices'].default))
            return bool(hook.get('convert', defaults['convert'].default)) and \
                torch.device(device).type in devices
    return False


def random_backbone_cfg(backbone_cfg: dict) -> ConfigDict:
    """The backbone config of the random baseline: ``backbone_cfg`` as pretraining builds it.

    The class's own initialisation (mmpretrain's ResNet: Kaiming convolutions, BN weights 1)
    with live residual branches: mmpretrain's ResNet zeroes every block's last BN weight unless
    ``zero_init_residual=False`` (the pretraining configs' setting), which would leave a stem
    and the 1 x 1 shortcuts, a network no pretraining starts from. No ``init_cfg``: nothing
    is loaded.

    Args:
        backbone_cfg (dict): A model's backbone config.
    """
    cfg = ConfigDict(copy.deepcopy(backbone_cfg))
    cfg.pop('init_cfg', None)
    if 'ResNet' in str(cfg.get('type', '')):
        cfg['zero_init_residual'] = False
    return cfg


def build_frozen_classifier(cfg: Config, checkpoint: str, prefix: str = AUTO_PREFIX,
                            device: str = 'cpu', seed: int = 0) -> torch.nn.Module:
    """Build ``cfg.model`` in eval mode with ``checkpoint`` loaded into its backbone.

    The checkpoint goes into the backbone through :class:`StrictPretrainedInit`, the loader of
    the configs' ``init_cfg``, so that its layouts, checks (missing keys, NaN / Inf weights) and
    messages apply here too. ``checkpoint='none'`` evaluates the random baseline: the network a
    pretraining with ``randomness.seed=seed`` starts from (:func:`random_backbone_cfg`,
    :func:`~mejigclu_mm.models.utils.init_from_seed`; docs/evaluation.md), with the BN
    statistics it is initialised with.

    Args:
        cfg (Config): A classification config (``model`` with a ``backbone``).
        checkpoint (str): Checkpoint file, or ``'none'`` for the random baseline.
        prefix (str): Where the backbone stands in the file, the keys as stored (e.g.
            'backbone.', 'module.encoder.', '' for the top level); ``'auto'`` finds it.
            Defaults to 'auto'.
        device (str): Device of the model. Defaults to 'cpu'.
        seed (int): Seed of the random baseline (and of the rest of the model). Defaults to 0.

    Returns:
        nn.Module: The model, on ``device``, in eval mode.

    Raises:
        FileNotFoundError: ``checkpoint`` is no file.
        KeyError: the config's model has no backbone.
    """
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    model_cfg = copy.deepcopy(cfg.model)
    if 'backbone' not in model_cfg:
        raise KeyError(f'config {cfg.filename}: model ({model_cfg.get("type")}) has no backbone')
    if cfg.get('data_preprocessor') is not None:  # as mmengine's Runner merges it
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    random_init = checkpoint.lower() == RANDOM_INIT
    if not random_init and not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint {checkpoint} does not exist or is not a file')
    model_cfg.backbone = random_backbone_cfg(model_cfg.backbone)
    torch.manual_seed(seed)
    model = MODELS.build(model_cfg)
    # init_weights() lists every parameter's initialisation at INFO level when no log file is
    # open (hundreds of lines on the console); warnings (e.g. missing keys) still show.
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        if random_init:
            init_from_seed(model.backbone, seed)
        model.init_weights()
        if not random_init:
            loaded = StrictPretrainedInit(
                checkpoint=checkpoint, prefix=None if prefix == AUTO_PREFIX else prefix
            ).load(model.backbone)
    finally:
        logger.setLevel(level)
    if converts_to_channels_last(cfg, device):
        model.to(memory_format=torch.channels_last)  # as the config's runs do (a speed option)
    source = f'random init (seed {seed}, the network pretraining starts from)' if random_init \
        else f'{checkpoint} (prefix "{loaded.prefix}"; dropped: {loaded.dropped_text()})'
    print(f'backbone {model_cfg.backbone.type}: {source}')
    return model.to(device).eval()


def _dataset_pipeline(dataset_cfg: dict):
    """The pipeline of a dataset config, looking through wrappers (``dataset`` / ``datasets``)."""
    if 'pipeline' in dataset_cfg:
        return dataset_cfg['pipeline']
    if 'dataset' in dataset_cfg:
        return _dataset_pipeline(dataset_cfg['dataset'])
    if dataset_cfg.get('datasets'):
        return _dataset_pipeline(dataset_cfg['datasets'][0])
    raise KeyError(f'dataset config {dataset_cfg.get("type")} has no pipeline')


def _set_pipeline(dataset_cfg: dict, pipeline) -> None:
    if 'dataset' in dataset_cfg and 'pipeline' not in dataset_cfg:
        _set_pipeline(dataset_cfg['dataset'], pipeline)
    elif dataset_cfg.get('datasets') and 'pipeline' not in dataset_cfg:
        for sub in dataset_cfg['datasets']:
            _set_pipeline(sub, pipeline)
    else:
        dataset_cfg['pipeline'] = copy.deepcopy(pipeline)


def _evaluation_loader(loader_cfg: dict, batch_size: Optional[int],
                       num_workers: Optional[int]) -> ConfigDict:
    """A dataloader config that visits every sample once in order."""
    loader = ConfigDict(copy.deepcopy(loader_cfg))
    loader.pop('batch_sampler', None)
    loader.sampler = dict(type='DefaultSampler', shuffle=False)
    loader.drop_last = False
    if batch_size is not None:
        loader.batch_size = batch_size
    if num_workers is not None:
        loader.num_workers = num_workers
    if not loader.get('num_workers'):
        loader.persistent_workers = False
    loader.setdefault('collate_fn', dict(type='default_collate'))
    return loader


def evaluation_dataloaders(cfg: Config, batch_size: Optional[int] = None,
                           num_workers: Optional[int] = None):
    """Bank (train) and query (val, else test) dataloaders of a classification config.

    The bank is the training set through the validation pipeline: kNN and linear-probe
    features are those of whole, unaugmented images (as mmselfsup's and DINO's kNN
    benchmarks do); the query set is the validation set (``test_dataloader`` if the config
    has no ``val_dataloader``). Both visit every sample once, in order.

    Args:
        cfg (Config): The config.
        batch_size (int, optional): Overrides both dataloaders' batch size.
        num_workers (int, optional): Overrides both dataloaders' worker count.

    Returns:
        tuple[DataLoader, DataLoader]: (bank, query).
    """
    query_cfg = cfg.get('val_dataloader') or cfg.get('test_dataloader')
    if not cfg.get('train_dataloader') or not query_cfg:
        raise KeyError(f'config {cfg.filename} needs a train_dataloader and a val_dataloader '
                       '(or test_dataloader) with labelled data')
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    query = _evaluation_loader(query_cfg, batch_size, num_workers)
    bank = _evaluation_loader(cfg.train_dataloader, batch_size, num_workers)
    _set_pipeline(bank.dataset, _dataset_pipeline(query.dataset))
    return Runner.build_dataloader(bank), Runner.build_dataloader(query)


def config_features(cfg: Config, checkpoint: str, prefix: str = 'auto', device: str = 'cpu',
                    batch_size: Optional[int] = None, num_workers: Optional[int] = None,
                    seed: int = 0) -> dict:
    """Bank and query features of ``checkpoint``'s backbone on ``cfg``'s data.

    Args:
        cfg (Config): A classification config (see :func:`build_frozen_classifier` and
            :func:`evaluation_dataloaders`).
        checkpoint (str): Checkpoint file, or ``'none'`` for a random backbone.
        prefix (str): See :func:`build_frozen_classifier`. Defaults to 'auto'.
        device (str): Device for the model and features. Defaults to 'cpu'.
        batch_size (int, optional): Overrides the dataloaders' batch size.
        num_workers (int, optional): Overrides the dataloaders' worker count.
        seed (int): Seed of a random initialisation. Defaults to 0.

    Returns:
        dict: ``bank`` / ``bank_labels`` / ``query`` / ``query_labels`` tensors on ``device``
        and ``num_classes`` (``len(metainfo['classes'])`` of the bank dataset when it has
        one, else the largest label + 1).
    """
    model = build_frozen_classifier(cfg, checkpoint, prefix, device, seed)
    bank_loader, query_loader = evaluation_dataloaders(cfg, batch_size, num_workers)
    bank, bank_labels = extract_features(model.data_preprocessor, model.backbone, bank_loader)
    query, query_labels = extract_features(model.data_preprocessor, model.backbone, query_loader)
    largest = int(max(bank_labels.max(), query_labels.max())) + 1
    classes = getattr(bank_loader.dataset, 'metainfo', {}).get('classes') or ()
    return dict(bank=bank, bank_labels=bank_labels, query=query, query_labels=query_labels,
                num_classes=max(len(classes), largest))
