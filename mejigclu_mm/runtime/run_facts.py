"""What a checkpoint fixed about its run, stored in its meta, and how a resumed run may differ.

Stored as plain values (loadable with ``weights_only=True``) under ``meta['run_facts']``:
the training set's size, the split of ``DisjointSubsetBatchSampler`` (``split_seed``, number of
subsets, dataset length) and the settings of ``model``, ``optim_wrapper``, ``param_scheduler``
and ``train_cfg`` as dotted keys. :func:`compare_run_facts` says which differences a resume
must refuse and which it continues with a warning (:func:`compare_settings`,
:func:`compare_data`; docs/checkpoints.md, "Exact resume").
"""
from typing import Any, Dict, List, Mapping, Optional, Tuple

SECTIONS = ('model', 'optim_wrapper', 'param_scheduler', 'train_cfg')
# Keys whose value does not matter once a run has started (how its weights were initialised).
IGNORED_KEYS = ('init_cfg', 'pretrained')
# Differences a resume refuses: the optimizer of another type or other parameter groups (its
# state cannot continue), a loop of another kind.
REFUSED = ('optim_wrapper.optimizer.type', 'optim_wrapper.paramwise_cfg',
           'optim_wrapper.constructor', 'train_cfg.type')
# What mmengine's resume keeps from the checkpoint over the config (the optimizer's param
# groups and the schedulers' states are loaded over the config's values).
FROM_CHECKPOINT = ('optim_wrapper.optimizer.', 'param_scheduler')


def plain(value: Any) -> Any:
    """``value`` as dicts, lists, strings, numbers, booleans and None (others as ``repr``)."""
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def flatten(value: Any, prefix: str) -> Dict[str, Any]:
    """Dotted keys (``param_scheduler.0.T_max``) of the dicts and dict lists in ``value``."""
    value = plain(value)
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list) and any(isinstance(item, dict) for item in value):
        items = ((str(index), item) for index, item in enumerate(value))
    else:
        return {prefix: value}
    flat: Dict[str, Any] = {}
    for key, item in items:
        if key in IGNORED_KEYS:
            continue
        flat.update(flatten(item, f'{prefix}.{key}'))
    return flat


def run_facts(cfg: Mapping, loader=None) -> dict:
    """The facts of a run to store in its checkpoints.

    Args:
        cfg (Mapping): The run's config.
        loader (DataLoader, optional): Its training dataloader (built).

    Returns:
        dict: ``dataset_size`` and ``subsets`` (None when unknown / no
        ``DisjointSubsetBatchSampler``) and ``settings`` ({dotted key: value}).
    """
    settings: Dict[str, Any] = {}
    for section in SECTIONS:
        if cfg.get(section) is not None:
            settings.update(flatten(cfg.get(section), section))
    dataset = getattr(loader, 'dataset', None)
    sampler = getattr(loader, 'batch_sampler', None)
    subsets = None
    if dataset is not None and hasattr(sampler, 'split_seed') and hasattr(sampler,
                                                                          'num_subsets'):
        subsets = dict(split_seed=int(sampler.split_seed), num_subsets=int(sampler.num_subsets),
                       dataset_length=len(dataset))
    return dict(dataset_size=None if dataset is None else len(dataset), subsets=subsets,
                settings=settings)


_ABSENT = object()


def _value(value: Any) -> str:
    return 'absent' if value is _ABSENT else repr(value)


def compare_data(saved: Optional[Mapping], current: Mapping) -> Tuple[List[str], List[str]]:
    """How the training data of the run to resume differs from the checkpoint's run.

    Args:
        saved (Mapping, optional): The checkpoint's ``meta['run_facts']`` (None: written before
            they were stored; nothing is compared).
        current (Mapping): :func:`run_facts` of the run to resume, with its dataloader.

    Returns:
        tuple[list[str], list[str]]: Differences to refuse, differences to warn about.
    """
    if not saved or current.get('dataset_size') is None:
        return [], []
    old_split, new_split = saved.get('subsets'), current.get('subsets')
    if old_split and new_split and old_split != new_split:
        return [f'DisjointSubsetBatchSampler\'s subsets (split_seed, subsets, dataset length): '
                f'{tuple(old_split.values())} when saved, {tuple(new_split.values())} now: the '
                'training set would be split anew and every image change its subset (its '
                'class) in the middle of the run'], []
    if saved.get('dataset_size') not in (None, current['dataset_size']):
        return [], [f'training set: {saved["dataset_size"]} images when saved, '
                    f'{current["dataset_size"]} now: epochs change length and the sampler\'s '
                    'order is not the interrupted run\'s']
    return [], []


def compare_settings(saved: Optional[Mapping],
                     current: Mapping) -> Tuple[List[str], List[str]]:
    """How the settings of the run to resume differ from the checkpoint's run.

    Args:
        saved (Mapping, optional): The checkpoint's ``meta['run_facts']`` (None: nothing is
            compared).
        current (Mapping): :func:`run_facts` of the run to resume.

    Returns:
        tuple[list[str], list[str]]: Differences to refuse (:data:`REFUSED`), differences to
        warn about; each names the key and both values, and says which value goes on.
    """
    if not saved:
        return [], []
    refused, warned = [], []
    old, new = saved.get('settings') or {}, current.get('settings') or {}
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key, _ABSENT), new.get(key, _ABSENT)
        if before == after:
            continue
        line = f'{key}: {_value(before)} when saved, {_value(after)} now'
        if key.startswith(REFUSED):
            refused.append(line)
        elif key.startswith(FROM_CHECKPOINT):
            warned.append(f'{line}; the checkpoint\'s value goes on (mmengine\'s resume loads '
                          'the optimizer\'s and schedulers\' states over the config\'s)')
        else:
            warned.append(f'{line}; the config\'s value applies from here on')
    return refused, warned
