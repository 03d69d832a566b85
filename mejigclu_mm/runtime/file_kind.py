"""Tell a PyTorch checkpoint from the files people give instead, by their first bytes.

A checkpoint path that holds a Git LFS pointer (a clone without ``git lfs``), an HTML page (a
download that returned a login or error page), an image or other text reaches torch's unpickler
today and fails with a message about unsafe globals or magic numbers. :func:`checkpoint_file_kind`
names such a file for what it is, with what to do, before anything tries to unpickle it.
"""
import os
import re
from typing import Optional

from mejigclu_mm.runtime.checkpoint_errors import NotACheckpointError

# torch.serialization.MAGIC_NUMBER: the first object of a checkpoint in torch's pre-1.6 format.
TORCH_LEGACY_MAGIC = (0x1950a86a20f9469cfc6c).to_bytes(10, 'little')
HEAD_BYTES = 4096

IMAGE_SIGNATURES = (
    ('JPEG', lambda head: head.startswith(b'\xff\xd8\xff')),
    ('PNG', lambda head: head.startswith(b'\x89PNG\r\n\x1a\n')),
    ('GIF', lambda head: head[:6] in (b'GIF87a', b'GIF89a')),
    ('WebP', lambda head: head[:4] == b'RIFF' and head[8:12] == b'WEBP'),
    ('TIFF', lambda head: head[:4] in (b'II*\x00', b'MM\x00*')),
    # 'BM' alone is too weak: also ask for one of the sizes a BMP info header has.
    ('BMP', lambda head: head[:2] == b'BM'
     and int.from_bytes(head[14:18], 'little') in (12, 40, 52, 56, 64, 108, 124)),
)


def _size(num_bytes: int) -> str:
    if num_bytes < 10 * 1024:
        return f'{num_bytes} bytes'
    for unit, scale in (('GB', 1024**3), ('MB', 1024**2), ('kB', 1024)):
        if num_bytes >= scale:
            return f'{num_bytes / scale:.1f} {unit}'
    return f'{num_bytes} bytes'


def _as_text(head: bytes) -> Optional[str]:
    """``head`` decoded as UTF-8 text, or None when it is binary."""
    if b'\x00' in head:
        return None
    for cut in range(4):  # the head may end inside a multi-byte character
        try:
            return head[:len(head) - cut].decode('utf-8')
        except UnicodeDecodeError:
            continue
    return None


def _git_lfs_pointer(text: str, size: int) -> Optional[str]:
    if not text.startswith('version https://git-lfs.github.com/spec/'):
        return None
    oid = re.search(r'^oid (\S+)', text, re.MULTILINE)
    real = re.search(r'^size (\d+)', text, re.MULTILINE)
    target = f' to a file of {_size(int(real.group(1)))}' if real else ''
    target += f' ({oid.group(1)[:20]}...)' if oid else ''
    return (f'a Git LFS pointer ({size} bytes){target}: the repository was cloned or pulled '
            f'without Git LFS, so the real file was never fetched. Install git-lfs and run '
            f'"git lfs pull" in that repository (or "git lfs pull --include=<this file>"), '
            f'then give the file again')


def _html_page(text: str, size: int) -> Optional[str]:
    start = text.lstrip('\ufeff \t\r\n').lower()
    if not (start.startswith(('<!doctype html', '<html'))
            or (start.startswith('<') and '<html' in start[:1024])):
        return None
    title = re.search(r'<title[^>]*>(.*?)</title>', text, re.IGNORECASE | re.DOTALL)
    titled = f', titled "{" ".join(title.group(1).split())[:80]}"' if title else ''
    return (f'an HTML page ({_size(size)}{titled}): the download returned a web page (a login, '
            f'error, quota or confirmation page) instead of the file. Download it again from '
            f'the file\'s direct link and check its size')


def describe_foreign_file(head: bytes, size: int) -> Optional[str]:
    """What a file is when its first bytes show it is no checkpoint, with what to do; else None.

    Args:
        head (bytes): The file's first bytes (up to :data:`HEAD_BYTES`).
        size (int): The file's size in bytes.
    """
    for name, matches in IMAGE_SIGNATURES:
        if matches(head):
            return (f'a {name} image ({_size(size)}): give the checkpoint file (.pth / .pkl) '
                    f'here, not an image')
    if head.startswith(b'\x1f\x8b'):
        return (f'a gzip archive ({_size(size)}): unpack it (gunzip, or tar -xzf for a .tar.gz) '
                f'and give the checkpoint inside')
    if head.startswith(b'\x93NUMPY'):
        return f'a NumPy .npy array ({_size(size)}), not a checkpoint of named weights'
    text = _as_text(head)
    if text is None:
        return None
    described = _git_lfs_pointer(text, size) or _html_page(text, size)
    if described:
        return described
    first = (text.strip().splitlines() or [''])[0][:60]
    return (f'a text file ({_size(size)}) starting with "{first}": give the checkpoint file '
            f'itself (a config, log or listing cannot be loaded as weights)')


def checkpoint_file_kind(path: str) -> str:
    """How to read ``path``: 'empty', 'zip' (torch's format since 1.6), 'torch-legacy' (torch's
    older format), 'pickle' (another Python pickle, e.g. detectron2 weights) or 'unknown'.

    Args:
        path (str): An existing file.

    Raises:
        NotACheckpointError: the file is recognisably something else (Git LFS pointer, HTML
            page, image, gzip archive, .npy array, other text); the message names the file,
            what it is and what to do.
    """
    size = os.path.getsize(path)
    if size == 0:
        return 'empty'
    with open(path, 'rb') as file:
        head = file.read(HEAD_BYTES)
    if head[:4] in (b'PK\x03\x04', b'PK\x05\x06'):
        return 'zip'
    if head[:1] == b'\x80':  # pickle protocol 2 and later
        return 'torch-legacy' if TORCH_LEGACY_MAGIC in head[:32] else 'pickle'
    described = describe_foreign_file(head, size)
    if described:
        raise NotACheckpointError(f'{path} is not a PyTorch checkpoint: it is {described}')
    return 'unknown'
