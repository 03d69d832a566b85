"""Importing mejigclu_mm leaves mmengine, mmpretrain, mmdet and torch as it found them."""
import json
import subprocess
import sys

import pytest
from conftest import ROOT

# What other code sees of the shared mechanisms, printed as JSON. With argv[1] == 'import' the
# package is imported first and the other modules it loaded are listed; with 'plain' exactly
# those modules are imported (listed in the file argv[2]), so that what torch, mmengine and
# mmdet register when their own modules load is the same on both sides.
PROBE = r'''
import importlib, json, pickle, sys
if sys.argv[1] == 'import':
    import mejigclu_mm  # noqa: F401
    loaded = [name for name in sys.modules if not name.startswith(('mejigclu_mm', '__main__'))]
else:
    loaded = json.load(open(sys.argv[2]))
    failed = []
    for module in loaded:  # every one is compared: a module that does not import is named
        try:
            importlib.import_module(module)
        except Exception as error:
            failed.append(f'{module}: {type(error).__name__}: {error}')
    if failed:
        sys.exit('modules the package loads that do not import on their own:\n'
                 + '\n'.join(failed))
import torch
from mmengine.logging import HistoryBuffer
from mmengine.registry import WEIGHT_INITIALIZERS
from mmengine.runner import CheckpointLoader

def name(obj):
    return f'{getattr(obj, "__module__", "")}.{getattr(obj, "__qualname__", repr(obj))}'

buffer = HistoryBuffer()
buffer.update(1.0)
print(json.dumps(dict(
    modules=loaded,
    initializers={key: name(cls) for key, cls in WEIGHT_INITIALIZERS.module_dict.items()},
    pretrained=name(WEIGHT_INITIALIZERS.get('Pretrained')),
    schemes=[[prefix, name(loader)] for prefix, loader in CheckpointLoader._schemes.items()],
    buffer_getstate=name(HistoryBuffer.__getstate__),
    buffer_pickle=pickle.dumps(buffer, protocol=2).hex(),
    safe_globals=sorted(name(g[0]) + ' as ' + g[1] if isinstance(g, tuple) else name(g)
                        for g in torch.serialization.get_safe_globals()),
)))
'''
OURS = {'StrictPretrained'}  # names the package registers in mmengine's registries


def probe(*args):
    result = subprocess.run([sys.executable, '-c', PROBE, *args], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_import_changes_no_shared_mechanism(tmp_path):
    with_package = probe('import')
    (tmp_path / 'modules.json').write_text(json.dumps(with_package['modules']))
    without = probe('plain', str(tmp_path / 'modules.json'))
    assert 'mmdet.models' in without['modules'] and 'torch' in without['modules']
    assert with_package['pretrained'] == 'mmengine.model.weight_init.PretrainedInit'
    assert set(with_package['initializers']) - set(without['initializers']) == OURS
    theirs = {key: cls for key, cls in with_package['initializers'].items() if key not in OURS}
    assert theirs == without['initializers']
    for key in ('pretrained', 'schemes', 'buffer_getstate', 'buffer_pickle', 'safe_globals'):
        assert with_package[key] == without[key], key
    assert not any('HistoryBuffer' in g or 'numpy' in g for g in with_package['safe_globals'])


@pytest.mark.slow
def test_a_module_that_does_not_import_is_named_not_skipped(tmp_path):
    (tmp_path / 'modules.json').write_text(json.dumps(['json', 'no_such_module_here']))
    result = subprocess.run([sys.executable, '-c', PROBE, 'plain', str(tmp_path / 'modules.json')],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert 'no_such_module_here: ModuleNotFoundError' in result.stderr
