"""A folder of images in any format OpenCV or PIL reads, with the skipped files counted."""
import collections
import os
import os.path as osp
from typing import Optional, Sequence

from mmengine.logging import MMLogger
from PIL import Image, ImageFile

from mmpretrain.datasets import CustomDataset
from mmpretrain.registry import DATASETS

# What OpenCV's imread decodes (its documentation's list; GIF from OpenCV 4.11).
OPENCV_EXTENSIONS = ('.bmp', '.dib', '.jpeg', '.jpg', '.jpe', '.jp2', '.png', '.webp', '.avif',
                     '.pbm', '.pgm', '.ppm', '.pxm', '.pnm', '.pfm', '.sr', '.ras', '.tiff',
                     '.tif', '.exr', '.hdr', '.pic', '.gif')


# PIL formats it opens but cannot decode on its own: MPEG (header only), EPS (Ghostscript).
PIL_UNDECODED = ('MPEG', 'EPS')


def pil_extensions() -> tuple:
    """The file extensions PIL has a decoder for (stub formats, which need an extra handler,
    and :data:`PIL_UNDECODED` left out)."""
    Image.init()
    readable = []
    for ext, image_format in Image.registered_extensions().items():
        opener = Image.OPEN.get(image_format)  # (class or factory, accept)
        stub = isinstance(opener and opener[0], type) and issubclass(opener[0],
                                                                     ImageFile.StubImageFile)
        if opener and not stub and image_format not in PIL_UNDECODED:
            readable.append(ext.lower())
    return tuple(sorted(readable))


def image_extensions() -> tuple:
    """Every extension OpenCV or PIL can read, lower case, sorted."""
    return tuple(sorted(set(OPENCV_EXTENSIONS) | set(pil_extensions())))


@DATASETS.register_module()
class ImageFolderDataset(CustomDataset):
    """mmpretrain's ``CustomDataset`` that takes every image file OpenCV or PIL can read and
    logs what it leaves out.

    ``CustomDataset`` keeps only '.jpg', '.jpeg',
    '.png', '.ppm', '.bmp', '.pgm' and '.tif' files and drops the rest without a word ('.tiff',
    '.webp', '.gif', '.JPEG' from some cameras are kept here). By default this dataset takes
    every extension OpenCV's ``imread`` or PIL has a decoder for (:func:`image_extensions`,
    compared in lower case) and, when it lists a folder, logs the number of images found and of
    the files it skipped, by extension, so that a format it does not know is seen. Everything
    else is ``CustomDataset``'s: sub-folders are walked, ``with_label=False`` for unlabelled
    images (pretraining), ``with_label=True`` for one class per sub-folder, ``ann_file`` for a
    list. Whether a listed file really decodes is the loading transform's business
    (``CheckedLoadImageFromFile`` names a file it cannot read, or skips it with
    ``on_error='skip'`` and counts it).

    Args:
        data_root (str): The folder (or the root of ``data_prefix`` / ``ann_file``).
        with_label (bool): One class per sub-folder. Defaults to False (unlabelled images).
        extensions (Sequence[str], optional): The extensions to take; defaults to
            :func:`image_extensions`.
        **kwargs: ``CustomDataset``'s other arguments (``data_prefix``, ``ann_file``,
            ``pipeline``, ``indices``, ...).
    """

    def __init__(self, data_root: str = '', with_label: bool = False,
                 extensions: Optional[Sequence[str]] = None, **kwargs):
        self.skipped = collections.Counter()
        super().__init__(data_root=data_root, with_label=with_label,
                         extensions=tuple(extensions or image_extensions()), **kwargs)

    def is_valid_file(self, filename: str) -> bool:
        if super().is_valid_file(filename):
            return True
        self.skipped[osp.splitext(filename)[1].lower() or '(no extension)'] += 1
        return False

    def _find_samples(self):
        self.skipped.clear()
        samples = super()._find_samples()
        self._count_unlisted(len(samples))
        logger = MMLogger.get_current_instance()
        folder = self.img_prefix.rstrip('/') or self.img_prefix
        if self.skipped:
            kinds = ', '.join(f'{ext} ({count})' for ext, count in self.skipped.most_common())
            logger.warning(
                f'ImageFolderDataset: {len(samples)} images in {folder}; skipped '
                f'{sum(self.skipped.values())} file(s): {kinds}. Files are taken by their '
                'extension (every image format OpenCV or PIL reads): if some of these are '
                'images, add their extension with extensions=(...).')
        else:
            logger.info(f'ImageFolderDataset: {len(samples)} images in {folder}, '
                        'no file skipped')
        return samples

    def _count_unlisted(self, num_listed: int) -> None:
        """Count the files mmengine's listing never shows: hidden ones (names starting with a
        dot, e.g. ``.DS_Store`` or macOS's ``._photo.jpg``) and, with labels, files outside
        the class folders. Local folders only (a second walk of the tree)."""
        if not osp.isdir(self.img_prefix):
            return
        visible = hidden = 0
        for _, _, names in os.walk(self.img_prefix, followlinks=True):
            for name in names:
                if name.startswith('.'):
                    hidden += 1
                else:
                    visible += 1
        outside = visible - num_listed - sum(self.skipped.values())
        if hidden:
            self.skipped['hidden (name starts with ".")'] = hidden
        if self.with_label and outside > 0:
            self.skipped['outside the class folders'] = outside
