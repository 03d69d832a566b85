"""Checks of a merged config that mmengine does not make: settings that look set but do nothing.

A child config that redefines ``train_pipeline`` changes nothing: the dataloader was built from
the base's ``train_pipeline`` when the base was read, and keeps it (mmengine merges values, it
does not re-evaluate the base). The dumped config then shows both.
"""
from typing import Any, Iterator, List, Mapping

from mejigclu_mm.runtime.run_facts import plain

# A config's top-level pipeline -> the dataloader that should run it. Only these three names:
# others (jigclu_pipeline, mejigclu_pipeline, ...) are means of composing a config.
PIPELINE_LOADERS = {'train_pipeline': 'train_dataloader', 'val_pipeline': 'val_dataloader',
                    'test_pipeline': 'test_dataloader'}


def _comparable(value: Any) -> Any:
    """``value`` as plain data without the ``_scope_`` keys mmengine adds to the variables of
    a base from another package (``mmdet::...``), which the dataloader's copy lacks."""
    value = plain(value)
    if isinstance(value, dict):
        return {key: _comparable(item) for key, item in value.items() if key != '_scope_'}
    if isinstance(value, list):
        return [_comparable(item) for item in value]
    return value


def dataset_pipelines(dataset: Any) -> Iterator[Any]:
    """The ``pipeline`` entries of a dataset config, looking through dataset wrappers."""
    if not isinstance(dataset, Mapping):
        return
    if 'pipeline' in dataset:
        yield dataset['pipeline']
    yield from dataset_pipelines(dataset.get('dataset'))
    for inner in dataset.get('datasets') or []:
        yield from dataset_pipelines(inner)


def pipeline_warnings(cfg: Mapping) -> List[str]:
    """One warning per top-level ``train_pipeline`` / ``val_pipeline`` / ``test_pipeline`` that
    differs from every pipeline its dataloader's dataset holds.

    Args:
        cfg (Mapping): A merged config (``Config`` or dict).

    Returns:
        list[str]: The warnings, naming the config file and the keys.
    """
    source = getattr(cfg, 'filename', None) or 'the config'
    warnings = []
    for key, loader_key in PIPELINE_LOADERS.items():
        loader = cfg.get(loader_key)
        if key not in cfg or not isinstance(loader, Mapping) or 'dataset' not in loader:
            continue
        pipelines = [_comparable(pipeline) for pipeline in dataset_pipelines(loader['dataset'])]
        if _comparable(cfg[key]) in pipelines:
            continue
        runs = f'{loader_key}.dataset.pipeline' if pipelines else \
            f'{loader_key}.dataset without a pipeline'
        warnings.append(
            f'{source}: its top-level {key} differs from {runs}, which is what the run uses: '
            f'{key} set in a config does not reach a dataloader its base already built. Set '
            f'{loader_key} = dict(dataset=dict(pipeline={key})) beside it (or remove {key})')
    return warnings
