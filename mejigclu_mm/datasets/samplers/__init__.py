from .disjoint_subset_batch_sampler import DisjointSubsetBatchSampler

__all__ = ['DisjointSubsetBatchSampler']
