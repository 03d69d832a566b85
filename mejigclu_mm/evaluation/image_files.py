"""A folder of unlabelled images of any sizes and formats, for feature extraction."""
import os.path as osp
from typing import Callable, List, Optional, Tuple

import mmcv
import numpy as np
from mmengine.dataset import default_collate
from torch.utils.data import Dataset

from mejigclu_mm.datasets.folder_images import find_images
from mejigclu_mm.datasets.transforms.load_image import UnreadableImageError, find_damage

# Image decoders tried in turn: OpenCV first (fast), then PIL (GIF, and the TIFF / WebP
# variants an OpenCV build may lack).
DECODERS = ('cv2', 'pillow')


def list_files(root: str) -> List[str]:
    """The images below ``root`` (sub-folders too) by the project's one rule
    (:func:`mejigclu_mm.datasets.folder_images.find_images`), as sorted relative paths.

    Args:
        root (str): A folder.

    Returns:
        list[str]: Relative paths with ``/`` separators, sorted.

    Raises:
        NotADirectoryError: ``root`` is not a folder.
    """
    return find_images(root).images


def read_image(path: str) -> np.ndarray:
    """Decode an image file as mmcv's ``LoadImageFromFile`` does: H x W x 3 uint8, BGR.

    Grey, palette and alpha images are made 3-channel, animated GIFs give their first frame.
    A truncated JPEG / PNG is refused (OpenCV would fill in the missing rows silently).

    Args:
        path (str): The file.

    Returns:
        ndarray: The image.

    Raises:
        UnreadableImageError: The file cannot be read, is cut off, or neither OpenCV nor PIL
            decodes it; the message names the file and why.
    """
    try:
        with open(path, 'rb') as file:
            data = file.read()
    except OSError as error:
        raise UnreadableImageError(f'{path}: {error.strerror or error}') from None
    if not data:
        raise UnreadableImageError(f'{path}: empty file (0 bytes)')
    problem = find_damage(data)
    if problem is not None:
        raise UnreadableImageError(f'{path}: {problem}')
    errors = []
    for backend in DECODERS:
        try:
            img = mmcv.imfrombytes(data, flag='color', channel_order='bgr', backend=backend)
        except Exception as error:  # decoders raise many types on data they do not know
            errors.append(f'{backend}: {type(error).__name__}')
            continue
        if img is not None and img.size:
            return np.ascontiguousarray(img)
    raise UnreadableImageError(f'{path}: not an image OpenCV or PIL can decode ({len(data)} '
                               f'bytes, starts with {data[:8]!r}{"; " if errors else ""}'
                               f'{", ".join(errors)})')


class ImageFiles(Dataset):
    """The images below a folder through a test pipeline; what is left out or unreadable
    reported.

    The folder is listed by the project's one rule (:func:`find_images`: images by extension,
    hidden entries and second paths to a folder left out). Each item is the pipeline's output
    for one image (e.g. ``PackInputs``'s ``inputs`` and ``data_samples``) plus ``'path'``, or
    ``{'path', 'error'}`` for an image that does not decode and for every entry the rule left
    out (``left_out``, listed after the images); :func:`collate_readable` separates the two in
    a batch, so one bad file never stops an extraction and none is dropped without a word.

    Args:
        root (str): The folder (sub-folders are included).
        pipeline (Callable): Transforms applied to ``{'img', 'img_shape', 'ori_shape',
            'img_path'}``, e.g. an mmengine ``Compose`` of a config's test pipeline without its
            loading step.
        files (list[str], optional): Paths relative to ``root``; defaults to the folder's
            images (and nothing is reported left out).
    """

    def __init__(self, root: str, pipeline: Callable, files: Optional[List[str]] = None):
        self.root = root
        self.pipeline = pipeline
        self.left_out: List[Tuple[str, str]] = []
        if files is None:
            listing = find_images(root)
            self.files = listing.images
            self.left_out = listing.left_out()
        else:
            self.files = list(files)

    def __len__(self) -> int:
        return len(self.files) + len(self.left_out)

    def __getitem__(self, index: int) -> dict:
        if index >= len(self.files):
            rel, why = self.left_out[index - len(self.files)]
            return dict(path=rel, error=f'{osp.join(self.root, rel)}: {why}; left out')
        rel = self.files[index]
        path = osp.join(self.root, rel)
        try:
            img = read_image(path)
        except UnreadableImageError as error:
            return dict(path=rel, error=str(error))
        results = self.pipeline(dict(img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2],
                                     img_path=path))
        if results is None:
            return dict(path=rel, error=f'{path}: the pipeline dropped it')
        return dict(results, path=rel)


def collate_readable(items: List[dict]) -> dict:
    """Batch the readable items of :class:`ImageFiles`, keep the others' paths and errors.

    Returns:
        dict: ``data`` (``default_collate`` of the readable items' pipeline outputs, or None
        when there is none), ``paths`` (theirs, in order) and ``unreadable`` (a list of
        ``(path, error)``).
    """
    good = [item for item in items if 'error' not in item]
    data = None
    if good:
        data = default_collate([{k: v for k, v in item.items() if k != 'path'} for item in good])
    return dict(data=data, paths=[item['path'] for item in good],
                unreadable=[(item['path'], item['error']) for item in items if 'error' in item])
