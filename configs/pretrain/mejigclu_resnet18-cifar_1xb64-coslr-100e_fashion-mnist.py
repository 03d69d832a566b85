# MEJigClu on Fashion-MNIST (offline real data), one GPU or CPU: clustering + classification
# heads, overlap ~ U(0.15, 0.45), one class and one fixed subset of the data per image of the
# 64-image batch (DisjointSubsetBatchSampler).
_base_ = [
    '../_base_/models/jigsaw_clustering_r18-cifar.py',
    '../_base_/datasets/fashion-mnist_bs64_jigsaw.py',
    '../_base_/schedules/sgd_coslr_100e.py',
    '../_base_/default_runtime.py',
]

num_gpus, batch_per_gpu = 1, 64
# one class per image of the global batch = the sampler's subsets
model = dict(heads=dict(cls=dict(_base_.cls_head, num_classes=num_gpus * batch_per_gpu)))
# one image of each fixed subset of the data set per batch (the batch size is the dataloader's;
# the batch sampler drops the incomplete last batch itself: torch refuses drop_last beside it)
train_dataloader = dict(batch_size=batch_per_gpu, drop_last=False,
                        batch_sampler=dict(type='DisjointSubsetBatchSampler'))
default_hooks = dict(logger=dict(interval=50))
