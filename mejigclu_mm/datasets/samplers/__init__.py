from .disjoint_subset_sampler import DisjointSubsetSampler

__all__ = ['DisjointSubsetSampler']
