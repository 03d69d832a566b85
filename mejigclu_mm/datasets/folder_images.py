"""The one rule for what counts as an image in a folder, and the walk that applies it.

Used by ``ImageFolderDataset`` (training data) and ``evaluation.image_files`` (feature
extraction), so that both take the same files:

- an image is a file whose extension (in any case) is one OpenCV's ``imread`` or PIL decodes
  (:func:`image_extensions`); other files are left out and counted by extension;
- hidden entries (names starting with '.', e.g. ``.DS_Store``, macOS's ``._photo.jpg``,
  ``.ipynb_checkpoints/``) are left out, counted and named;
- sub-folders are walked, symlinked ones followed, and each real folder is walked once: a
  second path to a folder already walked (a link loop such as ``self -> .``, or two links to
  one folder) is left out and named; a link that points nowhere is left out and named.
"""
import collections
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Counter, List, Optional, Sequence, Tuple

from PIL import Image, ImageFile

# What OpenCV's imread decodes (its documentation's list; GIF from OpenCV 4.11).
OPENCV_EXTENSIONS = ('.bmp', '.dib', '.jpeg', '.jpg', '.jpe', '.jp2', '.png', '.webp', '.avif',
                     '.pbm', '.pgm', '.ppm', '.pxm', '.pnm', '.pfm', '.sr', '.ras', '.tiff',
                     '.tif', '.exr', '.hdr', '.pic', '.gif')

# PIL formats it opens but cannot decode on its own: MPEG (header only), EPS (Ghostscript).
PIL_UNDECODED = ('MPEG', 'EPS')

# How many names a summary lists before it says "and N more"
NAMED = 5


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


def extension_of(name: str) -> str:
    """A file name's extension in lower case, or '(no extension)'."""
    return osp.splitext(name)[1].lower() or '(no extension)'


@dataclass
class FolderImages:
    """What :func:`find_images` found below a folder; paths relative to it, '/'-separated.

    Attributes:
        root (str): The folder.
        images (list[str]): The images, sorted.
        folders (list[str]): The folders walked (sub-folders of ``root``), sorted.
        other_files (list[str]): Files that are no image by their extension, sorted.
        hidden (list[str]): Hidden files and folders (names starting with '.'), not looked in.
        repeated (list[tuple[str, str]]): (path, the path it was walked as): second paths to a
            folder already walked, not walked again.
        broken_links (list[str]): Links that point to nothing.
    """

    root: str
    images: List[str] = field(default_factory=list)
    folders: List[str] = field(default_factory=list)
    other_files: List[str] = field(default_factory=list)
    hidden: List[str] = field(default_factory=list)
    repeated: List[Tuple[str, str]] = field(default_factory=list)
    broken_links: List[str] = field(default_factory=list)

    def other_kinds(self) -> Counter:
        """The files that are no image, counted by extension."""
        return collections.Counter(extension_of(path) for path in self.other_files)

    def left_out(self) -> List[Tuple[str, str]]:
        """(path, why) for every entry the rule leaves out, sorted by path."""
        return sorted([(path, f'no image by its extension ({extension_of(path)} is no format '
                        'OpenCV or PIL reads)') for path in self.other_files]
                      + [(path, 'hidden (its name starts with ".")') for path in self.hidden]
                      + [(path, f'a second path to the folder {first}, which is walked once')
                         for path, first in self.repeated]
                      + [(path, 'a link that points to nothing') for path in self.broken_links])

    def named(self) -> str:
        """The entries left out by name (hidden ones, second paths to a folder, broken
        links), a few of each, e.g. 'hidden: .DS_Store; walked once: self -> .'; '' if none."""
        parts = []
        for what, paths in (('hidden', self.hidden),
                            ('walked once', [f'{p} -> {first}' for p, first in self.repeated]),
                            ('links to nothing', self.broken_links)):
            if paths:
                more = f' and {len(paths) - NAMED} more' if len(paths) > NAMED else ''
                parts.append(f'{what}: {", ".join(paths[:NAMED])}{more}')
        return '; '.join(parts)

    def summary(self) -> str:
        """One sentence: how many images, what was left out (counted by kind; hidden entries,
        second paths to a folder and broken links named)."""
        counts = list(self.other_kinds().most_common())
        counts += [(what, len(paths)) for what, paths in (
            ('hidden', self.hidden), ('second paths to a folder', self.repeated),
            ('links to nothing', self.broken_links)) if paths]
        found = f'{len(self.images)} images in {self.root}'
        if not counts:
            return found + ', nothing left out'
        kinds = ', '.join(f'{what} ({count})' for what, count in counts)
        named = self.named()
        return (f'{found}; left out {sum(count for _, count in counts)}: {kinds}'
                + (f' ({named})' if named else ''))


def _is_hidden(name: str) -> bool:
    return name.startswith('.')


def find_images(root: str, extensions: Optional[Sequence[str]] = None) -> FolderImages:
    """The images below ``root`` by the rule of this module (see the module docstring).

    Args:
        root (str): A folder.
        extensions (Sequence[str], optional): The extensions that count as images (compared in
            lower case); defaults to :func:`image_extensions`.

    Returns:
        FolderImages: The images and what was left out.

    Raises:
        NotADirectoryError: ``root`` is not a folder.
    """
    if not osp.isdir(root):
        raise NotADirectoryError(f'image folder {root} does not exist or is not a folder')
    wanted = tuple(ext.lower() for ext in (extensions or image_extensions()))
    found = FolderImages(root=root)
    walked = {}  # (device, inode) of each real folder walked -> its relative path
    pending = ['']
    while pending:
        rel = pending.pop()
        folder = osp.join(root, rel) if rel else root
        info = os.stat(folder)
        identity = (info.st_dev, info.st_ino)
        if identity in walked:
            found.repeated.append((rel, walked[identity] or '.'))
            continue
        walked[identity] = rel
        if rel:
            found.folders.append(rel)
        with os.scandir(folder) as entries:
            entries = sorted(entries, key=lambda entry: entry.name)
        subfolders = []
        for entry in entries:
            path = f'{rel}/{entry.name}' if rel else entry.name
            if _is_hidden(entry.name):
                found.hidden.append(path)
            elif entry.is_dir():  # follows links
                subfolders.append(path)
            elif entry.is_file():
                if entry.name.lower().endswith(wanted):
                    found.images.append(path)
                else:
                    found.other_files.append(path)
            elif entry.is_symlink():
                found.broken_links.append(path)
            else:  # sockets, devices, fifos
                found.other_files.append(path)
        pending += reversed(subfolders)  # depth first, in name order
    for names in (found.images, found.folders, found.other_files, found.hidden,
                  found.broken_links):
        names.sort()
    return found
