"""Online kNN accuracy of the backbone during (self-supervised) pretraining."""
import copy
from typing import Dict, Optional, Sequence, Union

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from torch.utils.data import DataLoader

from mejigclu_mm.evaluation.features import extract_features
from mejigclu_mm.evaluation.knn import knn_accuracy, neighbourhood_sizes
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class KNNMonitorHook(Hook):
    """Log the weighted-kNN top-1 of the model's features on a small labelled set.

    A training monitor as the online kNN monitors of solo-learn and lightly or mmselfsup's kNN
    benchmark (weighted kNN of Wu et al., CVPR 2018; :func:`mejigclu_mm.evaluation.knn_predict`):
    every ``interval`` epochs (or iterations with ``by_epoch=False``) and after the last one,
    the model is put in eval mode, whole-image features of the bank and query sets are
    extracted, the query set is classified by its k nearest bank features and
    ``{prefix}/top1_k{k}`` is logged for every k, then the model's train mode is restored.
    It reads the model and changes nothing.

    Features: ``model.data_preprocessor(data, False)``, then ``model(inputs, mode='tensor')``
    (mmpretrain's self-supervised algorithms return the backbone's outputs there), last output
    global-average pooled and L2-normalised (:func:`mejigclu_mm.evaluation.pool_features`).

    Logging: the values go into the message hub (``runner.message_hub.get_scalar('knn/top1_k20')``)
    and through ``runner.visualizer.add_scalars`` into ``vis_data/scalars.json`` with
    ``step`` = finished epochs (iterations with ``by_epoch=False``), as mmengine logs
    validation metrics; ``tools/plot_curves.py`` draws them.

    Distributed training: every rank extracts its own shard of both sets (the dataloaders are
    given ``DefaultSampler(shuffle=False)``, whatever their config says), the features are
    all-gathered in dataset order and every rank computes the same kNN; the unwrapped model
    is used, so no DDP synchronisation runs. This splits the forward work instead of leaving
    the other ranks waiting for rank 0, and needs no broadcast.

    Dataset configs: each loader's ``dataset`` is ``dataset`` (keys both sets share, e.g. the
    pipeline) updated with the loader's own keys (e.g. ``split``, ``indices``). Without a
    ``type`` or a ``data_root`` of its own, a set takes the training set's (through wrappers:
    the innermost ``dataset``), so that pointing a config at another copy of the data or at
    another dataset class (``--cfg-options train_dataloader.dataset.data_root=...``, a config
    inheriting another one's monitor) moves the monitor with it.

    Args:
        bank_dataloader (dict | DataLoader): Labelled images the neighbours are taken from,
            through a whole-image (test) pipeline, e.g. a few thousand training images.
        query_dataloader (dict | DataLoader): Labelled images that are classified.
        dataset (dict, optional): Dataset keys shared by both loader configs; a loader's own
            keys win. Defaults to None (nothing shared).
        interval (int): Evaluate every ``interval`` epochs (iterations if not ``by_epoch``).
            Defaults to 1.
        by_epoch (bool): Whether ``interval`` counts epochs. Defaults to True.
        k (Sequence[int]): Neighbourhood sizes. Defaults to (20, ). A k larger than the bank
            uses the whole bank, with a warning in the log.
        temperature (float): Temperature of the vote weights. Defaults to 0.07.
        prefix (str): Prefix of the logged keys. Defaults to 'knn'.
    """

    priority = 'LOW'  # after the optimizer / scheduler hooks of the same stage

    def __init__(self,
                 bank_dataloader: Union[dict, DataLoader],
                 query_dataloader: Union[dict, DataLoader],
                 interval: int = 1,
                 by_epoch: bool = True,
                 k: Sequence[int] = (20, ),
                 temperature: float = 0.07,
                 prefix: str = 'knn',
                 dataset: Optional[dict] = None):
        if interval < 1:
            raise ValueError(f'KNNMonitorHook: interval must be >= 1, got {interval}')
        self.bank_dataloader = bank_dataloader
        self.query_dataloader = query_dataloader
        self.interval = interval
        self.by_epoch = by_epoch
        self.k = tuple(int(v) for v in k)
        self.temperature = temperature
        self.prefix = prefix
        self.dataset = dict(dataset or {})
        self._loaders: Optional[tuple] = None

    def _build(self, loader: Union[dict, DataLoader], seed: Optional[int],
               train_dataset: dict) -> DataLoader:
        if isinstance(loader, DataLoader):
            return loader
        loader = copy.deepcopy(dict(loader))
        loader['dataset'] = dict(copy.deepcopy(self.dataset), **loader.get('dataset', {}))
        for key in ('type', 'data_root'):
            if key not in loader['dataset'] and key in train_dataset:
                loader['dataset'][key] = train_dataset[key]
        loader['sampler'] = dict(type='DefaultSampler', shuffle=False)
        loader.pop('batch_sampler', None)
        loader.setdefault('collate_fn', dict(type='default_collate'))
        if not loader.get('num_workers'):
            loader['persistent_workers'] = False
        built = Runner.build_dataloader(loader, seed=seed)
        # Its own generator: starting its workers must not draw from the training's random
        # stream, which would make a resumed run differ from the uninterrupted one.
        built.generator = torch.Generator().manual_seed(seed or 0)
        return built

    def before_train(self, runner) -> None:
        train_dataset = _innermost(runner.cfg.get('train_dataloader', {}).get('dataset', {}))
        self._loaders = (self._build(self.bank_dataloader, runner.seed, train_dataset),
                         self._build(self.query_dataloader, runner.seed, train_dataset))

    def after_train_epoch(self, runner) -> None:
        if self.by_epoch and (self.every_n_epochs(runner, self.interval)
                              or self.is_last_train_epoch(runner)):
            self.evaluate(runner, step=runner.epoch + 1)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if not self.by_epoch and (self.every_n_train_iters(runner, self.interval)
                                  or self.is_last_train_iter(runner)):
            self.evaluate(runner, step=runner.iter + 1)

    def evaluate(self, runner, step: int) -> Dict[str, float]:
        """Run the kNN now and log it at ``step``; returns the logged scalars."""
        if self._loaders is None:
            self.before_train(runner)
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        was_training = model.training
        model.eval()
        try:
            feats = [extract_features(model.data_preprocessor,
                                      lambda x: model(x, mode='tensor'), loader)
                     for loader in self._loaders]
        finally:
            model.train(was_training)
        (bank, bank_labels), (query, query_labels) = feats
        num_classes = int(max(bank_labels.max(), query_labels.max())) + 1
        acc = knn_accuracy(query, query_labels, bank, bank_labels, num_classes, self.k,
                           self.temperature)
        clamped = {k: used for k, used in neighbourhood_sizes(self.k, len(bank)).items()
                   if used != k}
        if clamped:
            runner.logger.warning(
                f'KNNMonitorHook: the bank holds {len(bank)} images, fewer than k = '
                f'{", ".join(map(str, clamped))}: those are computed with every bank image '
                f'(k = {len(bank)}) and logged under their own names')
        scalars = {f'{self.prefix}/top1_k{k}': value for k, value in acc.items()}
        for key, value in scalars.items():
            runner.message_hub.update_scalar(key, value)
        runner.visualizer.add_scalars(scalars, step=step)
        runner.logger.info(f'KNNMonitorHook ({"epoch" if self.by_epoch else "iter"} {step}, '
                           f'{len(bank)} bank / {len(query)} query images): ' +
                           ', '.join(f'{key} {value:.2f}' for key, value in scalars.items()))
        return scalars


def _innermost(dataset_cfg: dict) -> dict:
    """The dataset a config wraps (``dataset`` of ``dataset`` ...), or the config itself."""
    while isinstance(dataset_cfg.get('dataset'), dict):
        dataset_cfg = dataset_cfg['dataset']
    return dataset_cfg
