from .clustering_head import ClusteringHead
from .location_head import LocationHead
from .patch_classification_head import PatchClassificationHead

__all__ = ['ClusteringHead', 'LocationHead', 'PatchClassificationHead']
