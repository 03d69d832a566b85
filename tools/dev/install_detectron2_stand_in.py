"""Install detectron2 v0.6's Python sources into this environment, as a test stand-in.

Usage (tools/setup_env.sh runs it with the environment's python):
    python tools/dev/install_detectron2_stand_in.py SDIST

detectron2 publishes no wheel; its v0.6 sources are on PyPI as the sdist ``pb1-detectron2==0.6``
(FAIR's tag v0.6, without the C++ sources, so it cannot be built). This unpacks its
``detectron2/`` package into ``<prefix>/share/mejigclu-detectron2-stand-in/``, patches the few
lines that today's Pillow and numpy no longer accept (:data:`PATCHES`, each file marked with a
comment at its top), adds ``detectron2/_C.py`` from ``detectron2_C_stand_in.py`` (no compiled
ops: each raises with a message naming the stand-in) and puts the folder on ``sys.path`` with
``mejigclu_detectron2_stand_in.pth`` in site-packages. The sdist's sha256 is checked. An
install of the same sdist by the same files is kept as it is (a second run does nothing); the
new tree is built beside the old one and renamed into place, the ``.pth`` written last.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import sys
import sysconfig
import tarfile
import tempfile
from pathlib import Path

SDIST_NAME = 'pb1-detectron2-0.6'
SDIST_SHA256 = '5d2e9e51e523ec72f6a31cca04b0a515492e9514b773a3d134cedc0677170b29'
STAND_IN_C = Path(__file__).with_name('detectron2_C_stand_in.py')
PTH_NAME = 'mejigclu_detectron2_stand_in.pth'
MARKER = 'MEJIGCLU_STAND_IN.json'
INSTALLER = 'tools/dev/install_detectron2_stand_in.py'

# (pattern, replacement, why): applied to every .py file of the package; each must match.
PATCHES = (
    (r'\bImage\.LINEAR\b', 'Image.BILINEAR',
     'Pillow 10 removed Image.LINEAR, an alias of Image.BILINEAR (a default argument of '
     'ExtentTransform, evaluated at import)'),
    (r'\bnp\.(bool|int|float|str|object)\b', r'\1',
     'numpy 1.24 removed the aliases np.bool / np.int / np.float / np.str / np.object of the '
     'builtins (the training loader\'s class histogram, masks, the VOC loader and evaluator)'),
)


class StandInError(RuntimeError):
    """The sdist is not the expected one, or a patch no longer applies."""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as file:
        for block in iter(lambda: file.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def install_key() -> dict:
    """What an installed tree was made from: the sdist and this installer's files."""
    return {'sdist_sha256': SDIST_SHA256, 'installer_sha256': sha256(Path(__file__)),
            'stand_in_sha256': sha256(STAND_IN_C)}


def unpack(sdist: Path, into: Path) -> Path:
    """Extract the sdist's ``detectron2/`` package (nothing else) into ``into``."""
    top = f'{SDIST_NAME}/detectron2/'
    with tarfile.open(sdist) as archive:
        members = [m for m in archive.getmembers() if m.name.startswith(top)]
        if not members:
            raise StandInError(f'{sdist} holds no {top}: not the {SDIST_NAME} sdist')
        archive.extractall(into, members=members, filter='data')
    return into / SDIST_NAME / 'detectron2'


def patch(package: Path) -> dict:
    """Apply :data:`PATCHES` to the package's sources; returns {file: replacements}.

    Raises:
        StandInError: a pattern matches nowhere (the sources are not v0.6's).
    """
    counts, changed = [0] * len(PATCHES), {}
    for path in sorted(package.rglob('*.py')):
        text = path.read_text()
        notes, replaced = [], 0
        for index, (pattern, replacement, why) in enumerate(PATCHES):
            text, count = re.subn(pattern, replacement, text)
            counts[index] += count
            replaced += count
            if count:
                notes.append(f'# mejigclu_mm test stand-in, patched at install ({INSTALLER}): '
                             f'{why}\n')
        if replaced:
            text = ''.join(notes) + text
            compile(text, str(path), 'exec')  # a patch that broke the syntax fails here
            path.write_text(text)
            changed[str(path.relative_to(package.parent))] = replaced
    for count, (pattern, _, _) in zip(counts, PATCHES):
        if not count:
            raise StandInError(f'the patch {pattern!r} matched nothing in {package}: these are '
                               f'not detectron2 v0.6\'s sources')
    return changed


def install(sdist: Path, prefix: Path, site_packages: Path) -> str:
    """Install the stand-in from ``sdist`` under ``prefix``; returns what was done."""
    target = prefix / 'share' / 'mejigclu-detectron2-stand-in'
    pth = site_packages / PTH_NAME
    key = install_key()
    marker = target / MARKER
    if marker.is_file() and json.loads(marker.read_text()).get('key') == key and \
            pth.is_file() and pth.read_text().strip() == str(target):
        return f'detectron2 stand-in up to date ({target})'
    found = sha256(sdist)
    if found != SDIST_SHA256:
        raise StandInError(f'{sdist} has sha256 {found}, expected {SDIST_SHA256} '
                           f'({SDIST_NAME}.tar.gz from PyPI); remove it and run again')
    target.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(dir=target.parent, prefix='.detectron2-stand-in.'))
    try:
        package = unpack(sdist, build / 'unpacked')
        changed = patch(package)
        shutil.copyfile(STAND_IN_C, package / '_C.py')
        tree = build / 'tree'
        tree.mkdir()
        package.rename(tree / 'detectron2')
        (tree / MARKER).write_text(json.dumps({'key': key, 'patched': changed}, indent=1))
        if target.exists():
            shutil.rmtree(target)
        tree.rename(target)
    finally:
        shutil.rmtree(build, ignore_errors=True)
    part = pth.with_name(f'.{PTH_NAME}.part')
    part.write_text(f'{target}\n')
    os.replace(part, pth)
    return (f'installed detectron2 v0.6 (test stand-in, {len(changed)} files patched) into '
            f'{target}, on sys.path through {pth}')


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('sdist', type=Path, help=f'{SDIST_NAME}.tar.gz')
    args = parser.parse_args(argv)
    try:
        print(install(args.sdist, Path(sys.prefix), Path(sysconfig.get_paths()['purelib'])))
    except (StandInError, OSError, tarfile.TarError) as error:
        print(f'install_detectron2_stand_in: {error}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
