"""Real photos for the data sections: a folder's images, pre-decoded or repeated into a folder."""
import os
from pathlib import Path
from typing import List, Optional

import numpy as np

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.ppm', '.pgm', '.tif', '.tiff', '.webp')


def image_paths(image_dir: Optional[str] = None) -> List[Path]:
    """Image files under ``image_dir`` (recursive, sorted), by default foolbox's 20 ImageNet
    photos (512 x 512 JPEGs, ``.venv/share/offline-data/foolbox/data/imagenet_*.jpg``)."""
    if image_dir is None:
        from mejigclu_mm.utils.offline_data import offline_data_dir
        paths = sorted(offline_data_dir('foolbox').glob('imagenet_*.jpg'))
    else:
        paths = sorted(p for p in Path(image_dir).rglob('*') if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise FileNotFoundError(f'no images found in {image_dir or "foolbox offline data"}')
    return paths


def decode(paths: List[Path], limit: int) -> List[np.ndarray]:
    """Decode up to ``limit`` images as OpenCV does in LoadImageFromFile (H x W x 3, BGR)."""
    import mmcv
    return [mmcv.imread(str(path), channel_order='bgr') for path in paths[:limit]]


def repeated_image_folder(paths: List[Path], count: int, folder: Path) -> Path:
    """Fill ``folder`` with ``count`` images by linking ``paths`` round-robin.

    Symbolic links (copies where links are not allowed): the data set gets enough files for
    its batches while every file is a real photo, decoded from disk at every step.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        source = paths[index % len(paths)]
        target = folder / f'{index:06d}_{source.name}'
        try:
            os.symlink(source.resolve(), target)
        except OSError:
            target.write_bytes(source.read_bytes())
    return folder
