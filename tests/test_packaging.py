"""Installing mejigclu_mm into an existing OpenMMLab environment: pip's resolver keeps the
environment's torch, extras are optional, the configs / tools / model index ship for `mim`.

Every pip run is offline and hermetic: no index, no find-links, no pip configuration (the
machine's own pip settings may point at local wheel folders), ``--dry-run`` so nothing is
installed; the package is built from a copy of the sources in a temporary folder.
"""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest
from conftest import ROOT

PRETRAIN = 'jigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py'
SOURCES = ['setup.py', 'MANIFEST.in', 'model-index.yml', 'requirements', 'mejigclu_mm',
           'configs', 'tools']


@pytest.fixture(scope='module')
def source(tmp_path_factory):
    """A copy of what setup.py builds from (no caches, no .mim of an editable install)."""
    root = tmp_path_factory.mktemp('source')
    ignore = shutil.ignore_patterns('__pycache__', '*.pyc', '.mim', '*.egg-info')
    for name in SOURCES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, root / name, ignore=ignore)
        else:
            shutil.copy(src, root / name)
    return root


def pip(*args, shadow=None):
    """Run this environment's pip offline, without any pip configuration of the machine;
    ``shadow`` (a folder) goes first on sys.path, so that its packages hide installed ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith('PIP_')}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK='1')
    if shadow is not None:
        env['PYTHONPATH'] = str(shadow)
    return subprocess.run([sys.executable, '-m', 'pip', *args], env=env, capture_output=True,
                          text=True, timeout=300)


def install_set(source, tmp_path, extras='', shadow=None):
    """(name, version) of what ``pip install --dry-run SOURCE[extras]`` would install."""
    report = tmp_path / 'report.json'
    done = pip('install', '--dry-run', '--no-index', '--no-build-isolation', '--quiet',
               '--report', str(report), f'{source}{extras}', shadow=shadow)
    if done.returncode:
        return done
    return {(item['metadata']['name'].lower(), item['metadata']['version'])
            for item in json.loads(report.read_text())['install']}


def load_setup():
    """setup.py as a module: its helpers (setup() itself runs only as __main__)."""
    spec = importlib.util.spec_from_file_location('mejigclu_setup', ROOT / 'setup.py')
    setup = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(setup)
    return setup


def fake_torch(folder, version):
    """An installed-looking torch of ``version`` (its metadata only) in ``folder``."""
    info = folder / f'torch-{version}.dist-info'
    info.mkdir(parents=True)
    (info / 'METADATA').write_text(f'Metadata-Version: 2.1\nName: torch\nVersion: {version}\n')
    return folder


@pytest.mark.slow
def test_installing_into_this_environment_keeps_its_torch(source, tmp_path):
    """The resolver runs over every requirement (no --no-deps), extras included: only
    mejigclu_mm itself would be installed, torch and the rest are taken as they are."""
    installed = install_set(source, tmp_path, '[det,seg,tensorboard,viz,tests]')
    assert installed == {('mejigclu_mm', '0.1.0')}, getattr(installed, 'stderr', installed)


@pytest.mark.slow
def test_another_torch_in_the_range_is_kept_too(source, tmp_path):
    """With a torch other than the locked one (2.9.0, hiding .venv's 2.14.1), nothing else is
    installed either: the requirements are ranges, not the lock's pins. A torch below the
    floor cannot be kept: pip then needs another one, which no index offers here."""
    kept = install_set(source, tmp_path, shadow=fake_torch(tmp_path / 'new', '2.9.0'))
    assert kept == {('mejigclu_mm', '0.1.0')}, getattr(kept, 'stderr', kept)
    too_old = install_set(source, tmp_path, shadow=fake_torch(tmp_path / 'old', '2.4.1'))
    assert isinstance(too_old, subprocess.CompletedProcess) and too_old.returncode != 0
    assert 'No matching distribution found for torch>=2.5' in too_old.stderr


def test_requirements_are_ranges_and_detection_segmentation_are_extras():
    setup = load_setup()
    core = setup.read_requirements('install')
    names = {req.split('<')[0].split('>')[0].split('=')[0].split(';')[0].strip()
             for req in core}
    assert {'torch', 'mmengine', 'mmcv', 'mmpretrain'} <= names
    assert not names & {'mmdet', 'mmsegmentation', 'pycocotools', 'tensorboard', 'scikit-learn',
                        'torchvision'}
    assert not [req for req in core if '==' in req]  # the exact set is requirements/lock.txt
    extras = {name: ' '.join(setup.read_requirements(name)) for name in setup.EXTRAS}
    assert 'mmdet' in extras['det'] and 'pycocotools' in extras['det']
    assert 'mmsegmentation' in extras['seg']
    assert 'tensorboard' in extras['tensorboard'] and 'scikit-learn' in extras['viz']


@pytest.mark.slow
def test_the_package_imports_and_builds_without_mmdet_and_mmseg(tmp_path):
    """Pretraining and the probes need neither: with both made unimportable, the package,
    its evaluation tools and a pretraining model still import and build."""
    script = f'''
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('mmdet', 'mmseg'):
            raise ModuleNotFoundError(f'blocked: {{name}}', name=name)
sys.meta_path.insert(0, Block())
sys.path[:0] = [{str(ROOT / 'tools')!r}]
import mejigclu_mm, mejigclu_mm.evaluation, mejigclu_mm.cli.frozen_features
import knn_eval, linear_probe, extract_features
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS
init_default_scope('mmpretrain')
cfg = Config.fromfile({str(ROOT / 'configs/jigclu' / PRETRAIN)!r})
MODELS.build(cfg.model)
print('imported:', sorted(m for m in sys.modules if m.split('.')[0] in ('mmdet', 'mmseg')))
'''
    done = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                          timeout=300, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stderr[-3000:]
    assert 'imported: []' in done.stdout


def test_mim_files_are_links_in_editable_installs_and_copies_otherwise(source):
    setup = load_setup()
    assert setup.mim_mode(['setup.py', 'develop']) == 'symlink'
    assert setup.mim_mode(['setup.py', 'editable_wheel', '--dist-dir', 'x']) == 'symlink'
    assert setup.mim_mode(['setup.py', 'bdist_wheel']) == 'copy'
    assert setup.mim_mode(['setup.py', 'egg_info']) is None  # metadata only: nothing written
    mim = source / 'mejigclu_mm' / '.mim'
    setup.add_mim_extension('symlink', root=str(source))
    for name in setup.MIM_FILES:
        assert (mim / name).is_symlink() and not os.path.isabs(os.readlink(mim / name))
        assert (mim / name).resolve() == (source / name).resolve()
    setup.add_mim_extension('copy', root=str(source))  # replaces the links
    for name in setup.MIM_FILES:
        assert not (mim / name).is_symlink() and (mim / name).exists()
    assert (mim / 'configs/mejigclu/mejigclu_resnet50_4xb64-coslr-200e_in1k.py').read_text() == \
        (ROOT / 'configs/mejigclu/mejigclu_resnet50_4xb64-coslr-200e_in1k.py').read_text()
    shutil.rmtree(mim)


@pytest.mark.slow
def test_the_wheel_ships_configs_tools_and_the_model_index(source, tmp_path):
    done = pip('wheel', '--no-deps', '--no-index', '--no-build-isolation', '--quiet',
               '--wheel-dir', str(tmp_path), str(source))
    assert done.returncode == 0, done.stderr[-3000:]
    (wheel, ) = tmp_path.glob('mejigclu_mm-0.1.0-*.whl')
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = ['mejigclu_mm/.mim/model-index.yml',
                'mejigclu_mm/.mim/configs/mejigclu/metafile.yml',
                'mejigclu_mm/.mim/configs/mejigclu/mejigclu_resnet50_4xb64-coslr-200e_in1k.py',
                'mejigclu_mm/.mim/configs/mejigclu/benchmarks/resnet50_4xb64-semi-1pct-steplr-100e_in1k.py',
                'mejigclu_mm/.mim/tools/train.py', 'mejigclu_mm/.mim/tools/dist_train.sh',
                'mejigclu_mm/.mim/tools/data/make_semi_subsets.py',
                'mejigclu_mm/evaluation/features.py']
    assert not [name for name in expected if name not in names]
    assert not [name for name in names if '__pycache__' in name or name.startswith('tests/')]
