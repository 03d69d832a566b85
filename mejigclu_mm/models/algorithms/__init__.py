from .jigsaw_clustering import JigsawClustering

__all__ = ['JigsawClustering']
