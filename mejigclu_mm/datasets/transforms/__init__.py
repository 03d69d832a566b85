from mejigclu_mm.datasets.transforms.jigsaw_split import JigsawSplit, jigsaw_boxes, patch_spans

__all__ = ['JigsawSplit', 'jigsaw_boxes', 'patch_spans']
from mejigclu_mm.datasets.transforms.load_image import (CheckedLoadImageFromFile,  # noqa: E402,F401
                                                        UnreadableImageError)
