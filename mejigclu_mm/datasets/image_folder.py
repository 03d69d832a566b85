"""A folder of images in any format OpenCV or PIL reads, with what is left out counted."""
import collections
import os.path as osp
from typing import Optional, Sequence

from mmengine.logging import MMLogger

from mejigclu_mm.datasets.folder_images import (OPENCV_EXTENSIONS, FolderImages,  # noqa: F401
                                                extension_of, find_images, image_extensions,
                                                pil_extensions)
from mmpretrain.datasets import CustomDataset
from mmpretrain.registry import DATASETS

HIDDEN = 'hidden (name starts with ".")'
REPEATED = 'second paths to a folder already walked (links)'
BROKEN = 'links that point to nothing'
OUTSIDE = 'outside the class folders'


@DATASETS.register_module()
class ImageFolderDataset(CustomDataset):
    """mmpretrain's ``CustomDataset`` that takes every image file OpenCV or PIL can read,
    walks each real folder once, and logs what it leaves out.

    ``CustomDataset`` keeps only '.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm' and '.tif'
    files and drops the rest without a word ('.tiff', '.webp', '.gif', '.JPEG' from some
    cameras are kept here), and mmengine's listing follows a symlink loop (``self -> .``)
    until the path is too long, listing every image ~40 times. A local folder is listed here
    by the project's one rule (:mod:`mejigclu_mm.datasets.folder_images`): images by
    extension (:func:`image_extensions`, any case), hidden entries left out and named, each
    real folder walked once. The log says how many images were found and counts, by kind,
    what was left out. Everything else is ``CustomDataset``'s: ``with_label=False`` for
    unlabelled images (pretraining), ``with_label=True`` for one class per sub-folder,
    ``ann_file`` for a list (not listed here), other storage backends listed by mmengine.
    Whether a listed file really decodes is the loading transform's business
    (``CheckedLoadImageFromFile`` names a file it cannot read, or skips it with
    ``on_error='skip'`` and counts it).

    Args:
        data_root (str): The folder (or the root of ``data_prefix`` / ``ann_file``).
        with_label (bool): One class per sub-folder. Defaults to False (unlabelled images).
        extensions (Sequence[str], optional): The extensions to take; defaults to
            :func:`image_extensions`.
        **kwargs: ``CustomDataset``'s other arguments (``data_prefix``, ``ann_file``,
            ``pipeline``, ``indices``, ...).

    Attributes:
        skipped (Counter): What the listing left out: extension -> files, and the counts of
            hidden entries, second paths to a folder, broken links, files outside the class
            folders.
        listing (FolderImages | None): The listing of a local folder.
    """

    def __init__(self, data_root: str = '', with_label: bool = False,
                 extensions: Optional[Sequence[str]] = None, **kwargs):
        self.skipped = collections.Counter()
        self.listing: Optional[FolderImages] = None
        super().__init__(data_root=data_root, with_label=with_label,
                         extensions=tuple(extensions or image_extensions()), **kwargs)

    def is_valid_file(self, filename: str) -> bool:
        if super().is_valid_file(filename):
            return True
        self.skipped[extension_of(filename)] += 1
        return False

    def _find_samples(self):
        self.skipped.clear()
        if not osp.isdir(self.img_prefix):  # another storage backend: mmengine lists it
            samples = super()._find_samples()
        else:
            samples = self._list_folder()
        logger = MMLogger.get_current_instance()
        folder = self.img_prefix.rstrip('/') or self.img_prefix
        if self.skipped:
            kinds = ', '.join(f'{ext} ({count})' for ext, count in self.skipped.most_common())
            named = self.listing.named() if self.listing else ''
            named = f' ({named})' if named else ''
            logger.warning(
                f'ImageFolderDataset: {len(samples)} images in {folder}; skipped '
                f'{sum(self.skipped.values())} file(s): {kinds}{named}. Files are taken by '
                'their extension (every image format OpenCV or PIL reads): if some of these '
                'are images, add their extension with extensions=(...).')
        else:
            logger.info(f'ImageFolderDataset: {len(samples)} images in {folder}, '
                        'no file skipped')
        return samples

    def _list_folder(self) -> list:
        """Samples of a local folder by :func:`find_images`, as ``CustomDataset`` gives
        them (paths, or (path, class index) with labels); ``skipped`` filled."""
        listing = self.listing = find_images(self.img_prefix, self.extensions)
        self.skipped.update(listing.other_kinds())
        for key, entries in ((HIDDEN, listing.hidden), (REPEATED, listing.repeated),
                             (BROKEN, listing.broken_links)):
            if entries:
                self.skipped[key] = len(entries)
        if not self.with_label:
            samples = list(listing.images)
        else:
            samples = self._labelled(listing)
        if not samples:
            raise RuntimeError(f'Found no image in {self.img_prefix} ({listing.summary()}). '
                               f'Supported extensions are: {", ".join(self.extensions)}')
        return samples

    def _labelled(self, listing: FolderImages) -> list:
        """(path, class index) for the images inside the class folders (the top-level
        folders walked, sorted); the images directly in the root are counted as outside."""
        classes = sorted(path for path in listing.folders if '/' not in path)
        if self.CLASSES is not None and len(self.CLASSES) != len(classes):
            raise ValueError(f'{self.img_prefix} has {len(classes)} class folders '
                             f'({", ".join(classes)}) but the dataset names '
                             f'{len(self.CLASSES)} classes')
        if self.CLASSES is None:
            self._metainfo['classes'] = tuple(classes)
        self.folder_to_idx = {name: index for index, name in enumerate(classes)}
        samples, used = [], set()
        for path in listing.images:
            folder = path.split('/', 1)[0]
            if folder in self.folder_to_idx and '/' in path:
                samples.append((path, self.folder_to_idx[folder]))
                used.add(folder)
        outside = len(listing.images) - len(samples) + len(listing.other_files)
        if outside:
            self.skipped[OUTSIDE] = outside
        empty = [name for name in classes if name not in used]
        if empty:
            MMLogger.get_current_instance().warning(
                f'ImageFolderDataset: no image in the class folder(s) {", ".join(empty)} of '
                f'{self.img_prefix}')
        return samples
