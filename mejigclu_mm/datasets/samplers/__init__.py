from mejigclu_mm.datasets.samplers.disjoint_subset_batch_sampler import DisjointSubsetBatchSampler

__all__ = ['DisjointSubsetBatchSampler']
