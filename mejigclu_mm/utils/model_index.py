"""This project's model index (``model-index.yml``) in mmpretrain's model listing, on request.

``model-index.yml`` at the repository root imports one ``configs/<method>/metafile.yml`` per
method, in the format of OpenMMLab's ``model-index`` package (what ``mim search`` and
mmpretrain's ``list_models`` / ``get_model`` read). setup.py ships it, with the configs, in
``mejigclu_mm/.mim/``. Importing ``mejigclu_mm`` does not touch mmpretrain's listing;
:func:`register_model_index` adds our models to it.
"""
from pathlib import Path
from typing import List

PACKAGE = Path(__file__).resolve().parents[1]


def model_index_path() -> Path:
    """``mejigclu_mm/.mim/model-index.yml`` (installed), else the repository's own.

    Raises:
        FileNotFoundError: neither exists (an install without its ``.mim`` files).
    """
    for candidate in (PACKAGE / '.mim' / 'model-index.yml', PACKAGE.parent / 'model-index.yml'):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f'no model-index.yml in {PACKAGE / ".mim"} or {PACKAGE.parent}: '
                            'reinstall mejigclu_mm (pip install .) to ship it')


def register_model_index() -> List[str]:
    """Add this project's models to mmpretrain's ``ModelHub`` (once; later calls do nothing).

    Afterwards ``mmpretrain.list_models('mejigclu*')`` lists them and
    ``mmpretrain.get_model(NAME, pretrained=CHECKPOINT)`` builds one by name. No weights are
    released: ``pretrained=True`` finds none (mmpretrain warns and leaves the model random).

    Returns:
        list[str]: The names of our models, as mmpretrain lists them (lower case).
    """
    from modelindex.load_model_index import load

    from mmpretrain.apis.model import ModelHub

    path = model_index_path()
    index = load(str(path))
    index.build_models_with_collections()
    names = [model.name.lower() for model in index.models]
    if not all(ModelHub.has(name) for name in names):
        ModelHub.register_model_index(path, config_prefix=path.parent)
    return names
