from mejigclu_mm.models.heads.clustering_head import ClusteringHead
from mejigclu_mm.models.heads.location_head import LocationHead
from mejigclu_mm.models.heads.patch_classification_head import PatchClassificationHead

__all__ = ['ClusteringHead', 'LocationHead', 'PatchClassificationHead']
