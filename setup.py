"""Install mejigclu_mm: MEJigClu / JigClu self-supervised pretraining for OpenMMLab.

Installs into an existing OpenMMLab environment: the requirements are version ranges
(requirements/install.txt; the exact set that the tests ran with is requirements/lock.txt,
which tools/setup_env.sh installs into .venv/), torch is taken as it is when it satisfies the
floor, and detection, segmentation, TensorBoard and t-SNE pictures are extras:

    pip install .                     # pretraining, kNN / linear probe, feature extraction
    pip install '.[det,seg]'          # + mmdet / mmsegmentation transfer configs
    pip install '.[tensorboard,viz]'  # + TensorBoard logging, t-SNE pictures
    pip install -e '.[tests]'         # everything the test suite needs

The configs, tools and model index ship inside the package (``mejigclu_mm/.mim/``, where
OpenMMLab's ``mim`` looks): symbolic links in an editable install, copies in a wheel.
"""
import os
import os.path as osp
import shutil
import sys
import warnings

from setuptools import find_packages, setup

ROOT = osp.dirname(osp.abspath(__file__))
# What `mim` (and mejigclu_mm.utils.model_index) find in <package>/.mim/
MIM_FILES = ('configs', 'tools', 'model-index.yml')
EXTRAS = ('det', 'seg', 'tensorboard', 'viz')


def read_requirements(name):
    """The requirement lines of requirements/<name>.txt, without comments."""
    with open(osp.join(ROOT, 'requirements', f'{name}.txt')) as file:
        lines = [line.split('#')[0].strip() for line in file]
    return [line for line in lines if line]


def add_mim_extension(mode, root=ROOT):
    """Put MIM_FILES into ``<root>/mejigclu_mm/.mim/``: ``'symlink'`` (relative links, for an
    editable install) or ``'copy'`` (for a wheel or an sdist). Replaces what is there."""
    mim_path = osp.join(root, 'mejigclu_mm', '.mim')
    os.makedirs(mim_path, exist_ok=True)
    for name in MIM_FILES:
        src, dst = osp.join(root, name), osp.join(mim_path, name)
        if not osp.exists(src):
            warnings.warn(f'{src} is missing: not shipped in mejigclu_mm/.mim')
            continue
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if mode == 'symlink':
            try:
                os.symlink(osp.relpath(src, mim_path), dst)
                continue
            except OSError:  # e.g. Windows without the privilege: copy instead
                warnings.warn(f'cannot link {dst} to {src}: copying it')
        if osp.isdir(src):
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
        else:
            shutil.copyfile(src, dst)


def mim_mode(argv):
    """How this setup.py run ships MIM_FILES: 'symlink', 'copy' or None (metadata only)."""
    if 'develop' in argv or 'editable_wheel' in argv:
        return 'symlink'
    if 'sdist' in argv or 'bdist_wheel' in argv:
        return 'copy'
    return None


if __name__ == '__main__':
    mode = mim_mode(sys.argv)
    if mode is not None:
        add_mim_extension(mode)
    extras = {name: read_requirements(name) for name in EXTRAS}
    extras['all'] = sorted({req for name in EXTRAS for req in extras[name]})
    extras['tests'] = read_requirements('tests') + extras['all']
    setup(
        name='mejigclu_mm',
        version='0.1.0',
        description='MEJigClu and JigClu self-supervised pretraining on mmpretrain, '
        'with transfer to linear evaluation, mmdet detection and mmseg segmentation.',
        packages=find_packages(include=['mejigclu_mm', 'mejigclu_mm.*']),
        include_package_data=True,  # mejigclu_mm/.mim/ (MANIFEST.in)
        python_requires='>=3.9',
        install_requires=read_requirements('install'),
        extras_require=extras,
        license='Apache-2.0',
        zip_safe=False,
    )
