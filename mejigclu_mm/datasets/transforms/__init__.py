from .jigsaw_split import JigsawSplit, jigsaw_boxes, patch_spans

__all__ = ['JigsawSplit', 'jigsaw_boxes', 'patch_spans']
from .load_image import CheckedLoadImageFromFile, UnreadableImageError  # noqa: E402,F401
