from mejigclu_mm.models.algorithms.jigsaw_clustering import JigsawClustering

__all__ = ['JigsawClustering']
