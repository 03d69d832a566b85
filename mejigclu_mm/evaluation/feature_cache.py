"""The ``--features`` cache of ``tools/knn_eval.py`` / ``tools/linear_probe.py``.

A cache file holds the bank and query features of one backbone on one config's data, and the
key they were extracted for: a hash of the merged config's content (after ``--cfg-options``), a
hash of the checkpoint file's content, the key prefix, the seed of a random backbone, and a
hash of the data files (:func:`data_digest`: every file below the data roots, annotation files
and prefixes of the datasets the features come from; by content while they total at most
:data:`CONTENT_LIMIT` bytes, else by names, sizes and modification times). A file whose key
differs is stale: it is reported and replaced. A file that is not such a cache (a checkpoint,
an image, a results JSON, a cut-off file) is neither read nor written over.
"""
import hashlib
import json
import os
import os.path as osp
import zipfile
from typing import Iterator, List, Optional, Tuple

import torch
from mmengine.config import Config

from mejigclu_mm.runtime.atomic_write import atomic_write

# Marks a file as a features cache (the 'kind' entry); files of older versions carry only
# 'key' and 'features'.
FEATURES_KIND = 'mejigclu_mm features cache'
TENSORS = ('bank', 'bank_labels', 'query', 'query_labels')
# Data files that total at most this many bytes are keyed by their content (SHA-256, about a
# second per GB); larger data by the names, sizes and modification times of its files.
CONTENT_LIMIT = 1 << 30
# The dataloaders whose data the features come from (evaluation.frozen_backbone)
DATA_LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


class FeatureCacheError(ValueError):
    """A ``--features`` file that is not a features cache, or a damaged one."""


def file_digest(path: str, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's content (hex)."""
    digest = hashlib.sha256()
    with open(path, 'rb') as file:
        for block in iter(lambda: file.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()


def config_digest(cfg: Config) -> str:
    """SHA-256 of the merged config's content: every setting, whichever file or option set it
    (keys sorted; values JSON has no form for are taken by their ``repr``)."""
    text = json.dumps(cfg.to_dict(), sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def _dataset_paths(dataset) -> List[str]:
    """The paths a dataset config reads, as the dataset resolves them (``data_root`` and the
    ``ann_file`` / ``data_prefix`` entries joined to it), wrapped datasets included."""
    if not isinstance(dataset, dict):
        return []
    root = dataset.get('data_root') or ''
    prefix = dataset.get('data_prefix') or {}
    relative = [dataset.get('ann_file')] + list(prefix.values() if isinstance(prefix, dict)
                                                else [prefix])
    paths = [root] if root else []
    paths += [p if osp.isabs(p) else osp.join(root, p)
              for p in relative if isinstance(p, str) and p]
    for child in [dataset.get('dataset')] + list(dataset.get('datasets') or []):
        paths += _dataset_paths(child)
    return paths


def data_paths(cfg: Config) -> List[str]:
    """The files and folders the datasets of ``cfg``'s dataloaders read (real paths, sorted),
    none inside another."""
    paths = {osp.realpath(p) for name in DATA_LOADERS
             for p in _dataset_paths((cfg.get(name) or {}).get('dataset'))}
    return sorted(p for p in paths
                  if not any(p != other and p.startswith(other.rstrip(os.sep) + os.sep)
                             for other in paths))


def _files_below(path: str) -> Iterator[Tuple[str, os.stat_result]]:
    """(path, stat) of every file below ``path`` (or ``path`` itself), sorted, each real folder
    walked once (links followed; a loop ends)."""
    if not osp.isdir(path):
        if osp.exists(path):
            yield path, os.stat(path)
        return
    walked = set()
    for folder, subfolders, files in os.walk(path, followlinks=True):
        info = os.stat(folder)
        if (info.st_dev, info.st_ino) in walked:
            subfolders[:] = []
            continue
        walked.add((info.st_dev, info.st_ino))
        subfolders.sort()
        for name in sorted(files):
            full = osp.join(folder, name)
            if osp.isfile(full):
                yield full, os.stat(full)


def data_digest(cfg: Config, content_limit: int = CONTENT_LIMIT) -> Tuple[str, str]:
    """A hash of the data files the features of ``cfg`` come from, and what it covers.

    The files are those below :func:`data_paths` (hidden ones included). While they total at
    most ``content_limit`` bytes the hash covers their names and content; beyond, their names,
    sizes and modification times (a change that keeps all three is not seen). A path that does
    not exist enters the hash as missing.

    Args:
        cfg (Config): The merged config.
        content_limit (int): The most bytes read for a content hash.

    Returns:
        tuple[str, str]: The SHA-256 (hex) and a description, e.g. 'the content of 4 files
        (52.7 MB) below /data/fashion_mnist'.
    """
    roots = data_paths(cfg)
    files = [(root, path, info) for root in roots for path, info in _files_below(root)]
    total = sum(info.st_size for _, _, info in files)
    by_content = total <= content_limit
    digest = hashlib.sha256()
    for root in roots:
        kind = 'folder' if osp.isdir(root) else 'file' if osp.exists(root) else 'missing'
        digest.update(f'{root}\0{kind}\0'.encode())
    for root, path, info in files:
        digest.update(f'{osp.relpath(path, root)}\0{info.st_size}\0'.encode())
        digest.update((file_digest(path) if by_content else str(info.st_mtime_ns)).encode())
    what = (f'the content of {len(files)} files ({total / 1e6:.1f} MB)' if by_content else
            f'the names, sizes and modification times of {len(files)} files '
            f'({total / 1e9:.1f} GB)')
    return digest.hexdigest(), f'{what} below {", ".join(roots) or "no data path"}'


def cache_key(cfg: Config, checkpoint: str, prefix: str, seed: int,
              random_init: bool) -> dict:
    """What extracted features depend on.

    Args:
        cfg (Config): The merged config.
        checkpoint (str): The checkpoint file (ignored with ``random_init``).
        prefix (str): The ``--prefix`` option.
        seed (int): The seed of a random backbone.
        random_init (bool): Whether the backbone is randomly initialised.

    Returns:
        dict: ``config`` and ``checkpoint`` content hashes, ``prefix``, ``seed``, ``data``
        (:func:`data_digest`) and ``data_files`` (what that hash covers).
    """
    data, data_files = data_digest(cfg)
    return dict(config=config_digest(cfg),
                checkpoint='random init' if random_init else file_digest(checkpoint),
                prefix=prefix, seed=seed, data=data, data_files=data_files)


def _what_it_is(path: str) -> str:
    """A few words on what a file that is not a features cache holds."""
    with open(path, 'rb') as file:
        head = file.read(512)
    stripped = head.lstrip()
    if stripped[:1] in (b'{', b'['):
        return 'JSON (e.g. a results file)'
    if head[:3] == b'\xff\xd8\xff' or head[:8] == b'\x89PNG\r\n\x1a\n' or head[:4] in (
            b'GIF8', b'II*\x00', b'MM\x00*') or (head[:4] == b'RIFF' and head[8:12] == b'WEBP'):
        return 'an image'
    if head[:1] == b'\x80':
        return 'a pickle (an old-style checkpoint?)'
    try:
        head.decode('utf-8')
        return 'text'
    except UnicodeDecodeError:
        return 'binary data'


def read_cache(path: str) -> dict:
    """The content of the features cache ``path``.

    Args:
        path (str): An existing file.

    Returns:
        dict: ``key`` and ``features`` (``bank``, ``bank_labels``, ``query``,
        ``query_labels`` tensors and ``num_classes``, ...).

    Raises:
        FeatureCacheError: ``path`` is no features cache (names what it is) or is damaged.
    """
    if osp.getsize(path) == 0:
        raise FeatureCacheError(f'--features {path} is empty (0 bytes), not a features cache')
    if not zipfile.is_zipfile(path):
        with open(path, 'rb') as file:
            zip_start = file.read(4) == b'PK\x03\x04'
        if zip_start:
            raise FeatureCacheError(f'--features {path} is cut off or damaged (its zip archive '
                                    'is incomplete)')
        raise FeatureCacheError(f'--features {path} is not a features cache: it holds '
                                f'{_what_it_is(path)}')
    try:
        content = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as error:  # a checkpoint with objects a cache never holds, or damage
        first = (str(error).splitlines() or [''])[0][:160]
        raise FeatureCacheError(
            f'--features {path} is a PyTorch file that is not a features cache (or a damaged '
            f'one): {type(error).__name__}: {first}') from None
    ours = isinstance(content, dict) and (
        content.get('kind') == FEATURES_KIND
        or (set(content) == {'key', 'features'} and isinstance(content['key'], dict)))
    if not ours:
        what = (f'a dict with keys {", ".join(map(str, list(content)[:6]))}'
                if isinstance(content, dict) else type(content).__name__)
        raise FeatureCacheError(f'--features {path} is not a features cache: it holds {what} '
                                '(a checkpoint?)')
    _check_content(path, content.get('features'))
    return content


def _check_content(path: str, features) -> None:
    """Refuse a cache whose tensors are missing or do not belong together."""
    if not isinstance(features, dict) or not all(torch.is_tensor(features.get(name))
                                                 for name in TENSORS):
        raise FeatureCacheError(f'--features {path} is damaged: it lacks the tensors '
                                f'{", ".join(TENSORS)}')
    for split in ('bank', 'query'):
        feats, labels = features[split], features[f'{split}_labels']
        if feats.ndim != 2 or labels.shape != (len(feats), ):
            raise FeatureCacheError(
                f'--features {path} is damaged: {split} features of shape '
                f'{tuple(feats.shape)} with labels of shape {tuple(labels.shape)}')


def stale_parts(stored: dict, key: dict) -> list:
    """The parts of ``key`` (``config``, ``checkpoint``, ``prefix``, ``seed``, ``data``) that
    differ, in words."""
    names = dict(config='the config\'s content', checkpoint='the checkpoint\'s content',
                 prefix='--prefix', seed='--seed',
                 data=f'the data files, compared by {key.get("data_files")}')
    if 'data' not in stored:
        names['data'] = 'the data files, which a cache of an earlier version does not record'
    return [names[part] for part in names if stored.get(part) != key[part]]


def load_cache(path: str, key: dict) -> Optional[dict]:
    """The cached features of ``path`` when they were extracted for ``key``.

    Args:
        path (str): The ``--features`` file; it need not exist.
        key (dict): :func:`cache_key` of this call.

    Returns:
        dict | None: The features, or None when ``path`` does not exist or is stale (a line
        says what changed; the caller extracts anew and replaces it).

    Raises:
        FeatureCacheError: ``path`` is no features cache, or a damaged one.
    """
    if not osp.lexists(path):
        return None
    if osp.isdir(path):
        raise FeatureCacheError(f'--features {path} is a folder; give a file name')
    content = read_cache(path)
    changed = stale_parts(content['key'], key)
    if changed:
        print(f'{path} holds features of other inputs ({", ".join(changed)} changed): '
              'extracting anew; it will be replaced')
        return None
    return content['features']


def save_cache(path: str, key: dict, features: dict) -> None:
    """Write a features cache atomically (the old one stays whole until the new one is)."""
    if osp.dirname(path):
        os.makedirs(osp.dirname(path), exist_ok=True)
    stored = {name: value.cpu() if torch.is_tensor(value) else value
              for name, value in features.items()}
    with atomic_write(path, 'wb') as file:
        torch.save(dict(kind=FEATURES_KIND, key=key, features=stored), file)
