"""Files of per-image features, as ``tools/extract_features.py`` writes them.

Two formats, chosen by the file's extension:

- ``.npz`` (numpy): ``paths`` (N,) str, ``features`` (N, D) float32, ``unreadable`` (M,) str
  and ``errors`` (M,) str (the files that were not images, and why), ``info`` (a JSON string:
  config, checkpoint, image folder, normalisation). Plain arrays, no pickles:
  ``numpy.load(FILE)`` reads it, ``pandas.DataFrame(f['features'], index=f['paths'])`` makes
  a table of it.
- ``.csv``: a header ``path,f0,f1,...`` and one row per image (``pandas.read_csv(FILE,
  index_col='path')``); the unreadable files are only printed by the tool.

Files are written atomically (a temporary file in the same folder, then renamed) and only
over a file of the same kind, never over anything else.
"""
import csv
import json
import os
import os.path as osp
import zipfile
from typing import List, Optional, Sequence, Tuple

import numpy as np

from mejigclu_mm.runtime.atomic_write import atomic_write

FORMATS = ('.npz', '.csv')
# Marks an .npz as ours (``info['written_by']``).
WRITER = 'mejigclu_mm extract_features'


def feature_format(path: str) -> str:
    """``'.npz'`` or ``'.csv'`` from ``path``'s extension; ValueError for any other."""
    ext = osp.splitext(path)[1].lower()
    if ext not in FORMATS:
        raise ValueError(f'{path}: features are written as .npz (numpy) or .csv, not '
                         f'{ext or "a file without extension"}')
    return ext


def is_feature_file(path: str) -> bool:
    """Whether ``path`` is a features file this module wrote (by its content, not its name)."""
    try:
        if feature_format(path) == '.csv':
            with open(path, newline='', encoding='utf-8') as file:
                header = next(csv.reader(file), [])
            return header[:2] == ['path', 'f0']
        with np.load(path, allow_pickle=False) as data:
            info = json.loads(str(data['info'])) if 'info' in data.files else {}
            return {'paths', 'features'} <= set(data.files) and info.get('written_by') == WRITER
    except (OSError, ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError,
            zipfile.BadZipFile, csv.Error):  # e.g. a .npy array has no files, ``with`` fails
        return False


def check_destination(path: str, inputs: Sequence[str] = ()) -> None:
    """Refuse to write features at ``path`` when that would destroy something.

    Args:
        path (str): The destination.
        inputs (Sequence[str]): Files and folders the tool reads: ``path`` may be none of
            them and may not lie inside one of the folders.

    Raises:
        ValueError: an unknown extension, an input, a path inside an input folder, a folder,
            or an existing file that is not a features file of the same format.
    """
    real = osp.realpath(path)
    for item in inputs:
        item_real = osp.realpath(item)
        if osp.isdir(item) and real.startswith(item_real.rstrip(os.sep) + os.sep):
            raise ValueError(f'tools/extract_features.py: --out {path} is inside the input '
                             f'folder {item}, whose files are all read as images; write '
                             'elsewhere')
    # the one guard of the tools' outputs; the mark is the content (is_feature_file)
    from mejigclu_mm.runtime.output_guard import refusal
    message = refusal(path, 'tools/extract_features.py', FORMATS, inputs, is_own=is_feature_file,
                      describe=lambda _: 'is not a features file written by '
                      'tools/extract_features.py')
    if message:
        raise ValueError(message)


def save_features(path: str, paths: Sequence[str], features: np.ndarray,
                  unreadable: Sequence[Tuple[str, str]] = (), info: Optional[dict] = None,
                  inputs: Sequence[str] = ()) -> None:
    """Write features in the format of ``path``'s extension (see the module docstring).

    Args:
        path (str): Destination, ``.npz`` or ``.csv``; checked by :func:`check_destination`.
        paths (Sequence[str]): One image path per row of ``features``.
        features (ndarray): (N, D) features.
        unreadable (Sequence[tuple[str, str]]): (path, reason) of the files left out.
        info (dict, optional): JSON-serialisable facts stored in an .npz's ``info``.
        inputs (Sequence[str]): The tool's inputs, never written over.
    """
    check_destination(path, inputs)
    features = np.asarray(features, dtype=np.float32)
    if features.ndim != 2 or len(features) != len(paths):
        raise ValueError(f'save_features: {len(paths)} paths and features of shape '
                         f'{features.shape}')
    if feature_format(path) == '.npz':
        meta = dict(info or {}, written_by=WRITER)
        arrays = dict(paths=np.asarray(list(paths), dtype=str).reshape(-1), features=features,
                      unreadable=np.asarray([p for p, _ in unreadable], dtype=str).reshape(-1),
                      errors=np.asarray([e for _, e in unreadable], dtype=str).reshape(-1),
                      info=np.asarray(json.dumps(meta)))
        with atomic_write(path, 'wb') as file:
            np.savez(file, **arrays)
        return
    with atomic_write(path, 'w', encoding='utf-8', newline='') as file:
        writer = csv.writer(file)
        writer.writerow(['path'] + [f'f{i}' for i in range(features.shape[1])])
        for name, row in zip(paths, features):
            writer.writerow([name] + [repr(float(v)) for v in row])


def load_features(path: str) -> Tuple[List[str], np.ndarray, dict]:
    """Read a features file of :func:`save_features`.

    Returns:
        tuple: image paths, (N, D) float32 features, and the ``info`` dict (with
        ``unreadable`` / ``errors`` lists for an .npz; empty for a .csv).

    Raises:
        ValueError: the file is not such a features file.
    """
    if not is_feature_file(path):
        raise ValueError(f'{path} is not a features file written by tools/extract_features.py '
                         '(.npz with paths / features, or .csv with a path,f0,... header)')
    if feature_format(path) == '.csv':
        with open(path, newline='', encoding='utf-8') as file:
            rows = list(csv.reader(file))[1:]
        width = len(rows[0]) - 1 if rows else 0
        features = np.asarray([[float(v) for v in row[1:]] for row in rows],
                              dtype=np.float32).reshape(len(rows), width)
        return [row[0] for row in rows], features, {}
    with np.load(path, allow_pickle=False) as data:
        info = json.loads(str(data['info']))
        info.update(unreadable=data['unreadable'].tolist(), errors=data['errors'].tolist())
        return data['paths'].tolist(), data['features'].astype(np.float32), info
