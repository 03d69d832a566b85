"""Load an image file and refuse (or skip) truncated and undecodable files by name."""
import io
import logging
from typing import Optional

import mmcv
import mmengine.fileio as fileio
import numpy as np
import torch
from mmcv.transforms import LoadImageFromFile
from mmengine.logging import print_log
from PIL import Image, ImageFile

from mmpretrain.registry import TRANSFORMS

JPEG_START, JPEG_END = b'\xff\xd8\xff', b'\xff\xd9'
PNG_START, PNG_END = b'\x89PNG\r\n\x1a\n', b'IEND'


class UnreadableImageError(OSError):
    """An image file that is missing, truncated or cannot be decoded."""


def _pil_problem(img_bytes: bytes) -> Optional[str]:
    """None if PIL decodes every pixel; ``'truncated'`` if the data ends early; else why not."""
    keep = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False  # another library may have switched it on
    try:
        with Image.open(io.BytesIO(img_bytes)) as image:
            image.load()
        return None
    except OSError as error:
        return 'truncated' if 'image file is truncated' in str(error) else str(error)
    except Exception as error:  # PIL raises SyntaxError, ValueError, ... on damaged data
        return f'{type(error).__name__}: {error}'
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = keep


def find_damage(img_bytes: bytes) -> Optional[str]:
    """Why the JPEG or PNG file ``img_bytes`` is truncated or damaged, or None when it is not.

    A JPEG cut short decodes in OpenCV without an error, the missing rows filled in (black for
    a baseline JPEG). A file whose end marker (JPEG ``FFD9``, PNG ``IEND``) is where it belongs
    is complete; otherwise PIL decodes it to decide, as files with data after the marker (some
    cameras append a video or padding) are complete too. Other formats are left to the decoder.

    Args:
        img_bytes (bytes): The file's content.

    Returns:
        str | None: A description of the problem, or None.
    """
    if img_bytes.startswith(JPEG_START):
        kind, complete = 'JPEG', img_bytes.rstrip(b'\x00').endswith(JPEG_END)
    elif img_bytes.startswith(PNG_START):
        kind, complete = 'PNG', PNG_END in img_bytes[-32:]
    else:
        return None
    problem = None if complete else _pil_problem(img_bytes)
    if problem is None:
        return None
    if problem == 'truncated':
        return (f'truncated {kind} (the data ends before the image does; the missing rows '
                'would load filled in, e.g. black)')
    return f'cannot be decoded ({len(img_bytes)} bytes, damaged {kind}: {problem})'


@TRANSFORMS.register_module()
class CheckedLoadImageFromFile(LoadImageFromFile):
    """``LoadImageFromFile`` that checks each file is complete and decodable.

    For real image folders: mmcv's ``LoadImageFromFile``
    trains on a truncated JPEG (OpenCV fills the missing rows with black, silently) and stops
    the run on an undecodable one with ``AssertionError: failed to load image``. This transform
    finds both (:func:`find_damage`, then the decoder) and either raises
    :class:`UnreadableImageError` naming the file (default) or, with ``on_error='skip'``,
    returns None after logging a warning with the file and the number skipped so far in the
    run: mmengine's dataset then loads another image in its place (up to its ``max_refetch``).
    Skipping is for training sets: a test-mode dataset (validation, test) refuses a None sample
    (``Test time pipline should not get `None` data_sample``), as an evaluation must see all.

    The colour order of every image of a pipeline is stated here, once: ``channel_order``
    (OpenCV's BGR by default, as mmcv's loader; our configs load RGB, so that nothing after
    the loader swaps channels). It is recorded as ``img_channel_order`` for the transforms
    whose colour operations need it (``JigsawSplit``'s CPU photometric recipe).

    Required keys: ``img_path``. Added keys: ``img``, ``img_shape``, ``ori_shape``,
    ``img_channel_order``.

    Args:
        on_error (str): ``'raise'`` or ``'skip'``. Defaults to ``'raise'``.
        channel_order (str): ``'bgr'`` or ``'rgb'``, the order of the decoded channels.
            Defaults to ``'bgr'``.
        **kwargs: ``LoadImageFromFile``'s arguments (``to_float32``, ``color_type``,
            ``imdecode_backend``, ``backend_args``; ``ignore_empty`` is replaced by
            ``on_error``).
    """

    def __init__(self, on_error: str = 'raise', channel_order: str = 'bgr', **kwargs):
        if on_error not in ('raise', 'skip'):
            raise ValueError(f"CheckedLoadImageFromFile: on_error must be 'raise' or 'skip', "
                             f'got {on_error!r}')
        if channel_order not in ('bgr', 'rgb'):
            raise ValueError(f"CheckedLoadImageFromFile: channel_order must be 'bgr' or 'rgb', "
                             f'got {channel_order!r}')
        self.channel_order = channel_order
        if 'ignore_empty' in kwargs:
            raise ValueError("CheckedLoadImageFromFile: use on_error='skip' instead of "
                             'ignore_empty')
        super().__init__(**kwargs)
        self.on_error = on_error
        # Shared with the data-loader workers (forked or spawned), so the count is the run's.
        self.skipped = torch.zeros(1, dtype=torch.int64).share_memory_()

    def _read(self, filename: str) -> np.ndarray:
        """The decoded image; raises UnreadableImageError with the reason."""
        try:
            img_bytes = fileio.get(filename, backend_args=self.backend_args)
        except FileNotFoundError:
            raise UnreadableImageError(f'{filename}: file not found') from None
        problem = find_damage(img_bytes)
        if problem is None:
            try:
                img = mmcv.imfrombytes(img_bytes, flag=self.color_type,
                                       channel_order=self.channel_order,
                                       backend=self.imdecode_backend)
            except Exception as error:  # decoders raise many types on garbage
                img, problem = None, f'{type(error).__name__}: {error}'
            if img is None and self.imdecode_backend != 'pillow':
                # e.g. GIF, which OpenCV 4.10 cannot decode: the folder datasets take every
                # format OpenCV or PIL reads, so the loader must too
                # (with channel_order 'rgb' OpenCV's failure is a cvtColor error, not None)
                try:
                    img = mmcv.imfrombytes(img_bytes, flag=self.color_type,
                                           channel_order=self.channel_order, backend='pillow')
                except Exception:
                    img = None
                if img is not None:
                    problem = None
            if img is None:
                problem = (f'cannot be decoded ({len(img_bytes)} bytes; corrupt or not an '
                           f'image{"; " + problem if problem else ""})')
        if problem is not None:
            raise UnreadableImageError(f'{filename}: {problem}')
        return img

    def transform(self, results: dict) -> Optional[dict]:
        filename = results['img_path']
        try:
            img = self._read(filename)
        except UnreadableImageError as error:
            if self.on_error == 'raise':
                raise UnreadableImageError(
                    f'unreadable image {error}. Replace or remove the file, or skip '
                    "such files with dict(type='CheckedLoadImageFromFile', on_error='skip') "
                    'in the pipeline.') from None
            self.skipped += 1
            print_log(f'CheckedLoadImageFromFile: skipped {error}; {int(self.skipped)} '
                      'image(s) skipped so far in this run, another image is loaded instead',
                      logger='current', level=logging.WARNING)
            return None
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        results['img_channel_order'] = self.channel_order
        return results

    def __repr__(self) -> str:
        name = self.__class__.__name__
        ours = f"on_error='{self.on_error}', channel_order='{self.channel_order}', "
        return super().__repr__().replace(f'{name}(', f'{name}({ours}', 1)
