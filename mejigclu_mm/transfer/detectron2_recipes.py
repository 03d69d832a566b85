"""Read a detectron2 YAML config whose ``_BASE_`` is one of detectron2's model-zoo configs.

The recipes in ``configs/mejigclu/benchmarks/detectron2/`` are written as the official JigClu
file is (``_BASE_: "Base-RCNN-FPN.yaml"``): against detectron2's own base configs, which live
inside the installed detectron2 (``detectron2.model_zoo.get_config_file``), not beside them.
:func:`detectron2_recipe_config` follows a ``_BASE_`` that names a file beside the config (the
VOC recipe on the COCO one) and reads one that does not from the model zoo; detectron2's own
``merge_from_file`` does the rest. detectron2 is imported only when a config is read.
"""
import os
from typing import List, Tuple

import yaml

BASE_KEY = '_BASE_'


class RecipeConfigError(ValueError):
    """A recipe file that cannot be read, or whose ``_BASE_`` is found nowhere."""


def _read(path: str) -> dict:
    with open(path) as file:
        loaded = yaml.safe_load(file)
    if not isinstance(loaded, dict):
        raise RecipeConfigError(f'{path} holds no detectron2 config (a YAML mapping)')
    return loaded


def recipe_chain(path: str) -> Tuple[str, List[Tuple[str, dict]]]:
    """The model-zoo base of ``path`` and the files above it.

    Args:
        path (str): A YAML config.

    Returns:
        tuple: (the model-zoo config at the bottom of the chain, ``''`` when there is none;
        [(file, its content without ``_BASE_``), ...] from ``path`` down to the base).

    Raises:
        RecipeConfigError: a ``_BASE_`` is not a string, loops, or is found neither beside its
            file nor in detectron2's model zoo.
    """
    from detectron2 import model_zoo

    chain: List[Tuple[str, dict]] = []
    current = os.path.abspath(path)
    while True:
        if any(current == seen for seen, _ in chain):
            raise RecipeConfigError(f'{path}: the _BASE_ chain comes back to {current}')
        content = _read(current)
        base = content.pop(BASE_KEY, None)
        chain.append((current, content))
        if base is None:
            return '', chain
        if not isinstance(base, str):
            raise RecipeConfigError(f'{current}: _BASE_ must be one file name, not {base!r}')
        beside = os.path.join(os.path.dirname(current), os.path.expanduser(base))
        if os.path.isfile(beside):
            current = beside
            continue
        try:
            return model_zoo.get_config_file(base), chain
        except RuntimeError as error:
            raise RecipeConfigError(
                f'{current}: _BASE_ {base!r} is neither beside the file nor in detectron2\'s '
                f'model zoo ({error})') from None


def detectron2_recipe_config(path: str):
    """detectron2's ``get_cfg()`` with ``path`` and its bases merged in, bottom first.

    Args:
        path (str): A YAML config whose ``_BASE_`` chain ends in a model-zoo config (or in a
            file without ``_BASE_``).

    Returns:
        detectron2.config.CfgNode: The merged config (not frozen).

    Raises:
        RecipeConfigError: see :func:`recipe_chain`; also a file of the chain without
            ``VERSION: 2`` (detectron2's current config format).
    """
    from detectron2.config import get_cfg

    base, chain = recipe_chain(path)
    cfg = get_cfg()
    if base:
        cfg.merge_from_file(base)
    for file, content in reversed(chain):
        if content.get('VERSION') != cfg.VERSION:
            raise RecipeConfigError(f'{file}: VERSION is {content.get("VERSION")!r}; a recipe '
                                    f'is written in detectron2\'s config format {cfg.VERSION}')
        cfg.merge_from_other_cfg(type(cfg)(content))
    return cfg
