"""model-index.yml and the metafiles: they parse as OpenMMLab's model index, name configs that
exist and load, cover every pretraining / linear config, and reach mmpretrain's listing."""
import re
from pathlib import Path

import pytest
from conftest import ROOT
from mmengine.config import Config

# Configs deliberately left out of the index: mmpretrain's own MoCo v2 (the demo's peer row,
# mmpretrain indexes MoCo v2 itself).
NOT_INDEXED = {'configs/mocov2/mocov2_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py'}


@pytest.fixture(scope='module')
def index():
    from modelindex.load_model_index import load
    loaded = load(str(ROOT / 'model-index.yml'))
    loaded.build_models_with_collections()
    return loaded


def test_the_index_parses_without_errors(index):
    assert index.check(silent=True) == []
    assert {c.name for c in index.collections} == {'MEJigClu', 'JigClu'}
    names = [m.name for m in index.models]
    assert len(names) == len(set(names)) and all(n == n.lower() for n in names)
    for model in index.models:
        assert model.weights is None  # no weights are released: every entry says so
        assert model.in_collection in ('MEJigClu', 'JigClu')


def test_every_named_config_exists_and_loads(index):
    loaded = {}
    for model in index.models:
        if model.config not in loaded:  # the linear configs are listed once per method
            loaded[model.config] = Config.fromfile(ROOT / model.config)
        cfg = loaded[model.config]
        assert 'model' in cfg and 'train_dataloader' in cfg, model.config
        meta = model.metadata
        assert meta.epochs == cfg.train_cfg.max_epochs, model.name
        gpus, per_gpu = map(int, re.search(r'_(\d+)xb(\d+)-', model.config).groups())
        assert meta.batch_size == gpus * per_gpu == gpus * cfg.train_dataloader.batch_size


def test_downstream_entries_exist_and_pretraining_configs_have_them(index):
    names = {m.name for m in index.models}
    for model in index.models:
        downstream = model.data.get('Downstream') or []
        assert set(downstream) <= names, model.name
        if '/benchmarks/' not in model.config:  # a pretraining config
            assert downstream, model.name


def test_every_pretraining_and_linear_config_is_indexed(index):
    indexed = {model.config for model in index.models}
    shipped = {str(p.relative_to(ROOT)) for folder in ('mejigclu', 'jigclu', 'mocov2')
               for p in (ROOT / 'configs' / folder).glob('*.py')}
    shipped |= {str(p.relative_to(ROOT))
                for p in (ROOT / 'configs/mejigclu/benchmarks').glob('resnet*.py')}
    assert shipped - NOT_INDEXED - indexed == set()


def test_mmpretrain_lists_and_builds_our_models_once_registered():
    """register_model_index() is an opt-in (importing mejigclu_mm adds nothing to
    mmpretrain's listing); afterwards list_models / get_model find our entries by name."""
    import mmpretrain
    from mejigclu_mm.utils.model_index import model_index_path, register_model_index
    assert model_index_path().name == 'model-index.yml'
    names = register_model_index()
    assert register_model_index() == names  # a second call changes nothing
    listed = mmpretrain.list_models('mejigclu')
    assert 'mejigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist' in listed
    assert set(mmpretrain.list_models('jigclu')) <= set(names)
    with pytest.warns(UserWarning, match='Unable to find pre-defined checkpoint'):
        model = mmpretrain.get_model('jigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist',
                                     pretrained=True)
    assert type(model).__name__ == 'JigsawClustering'
    assert Path(model._metainfo.config.filename).name == \
        'jigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py'
