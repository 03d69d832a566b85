"""Install mejigclu_mm: MEJigClu / JigClu self-supervised pretraining for OpenMMLab."""
from pathlib import Path

from setuptools import find_packages, setup


def read_requirements(name):
    """Return the requirement lines of requirements/<name>.txt, without comments."""
    lines = (Path(__file__).parent / 'requirements' / f'{name}.txt').read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith('#')]


setup(
    name='mejigclu_mm',
    version='0.1.0',
    description='MEJigClu and JigClu self-supervised pretraining on mmpretrain, '
    'with transfer to linear evaluation and mmdet detection.',
    packages=find_packages(include=['mejigclu_mm', 'mejigclu_mm.*']),
    python_requires='>=3.9',
    install_requires=read_requirements('torch') + read_requirements('runtime'),
    extras_require={'tests': read_requirements('tests')},
    license='Apache-2.0',
)
