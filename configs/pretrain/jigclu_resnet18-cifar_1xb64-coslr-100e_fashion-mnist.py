# JigClu on Fashion-MNIST (offline real data): clustering + location heads, overlap 0.3.
_base_ = [
    '../_base_/models/jigsaw_clustering_r18-cifar.py',
    '../_base_/datasets/fashion-mnist_bs64_jigsaw.py',
    '../_base_/schedules/sgd_coslr_100e.py',
    '../_base_/default_runtime.py',
]

model = dict(heads=dict(loc=_base_.loc_head))
train_dataloader = dict(dataset=dict(
    pipeline=[*_base_.train_pipeline[:-2], dict(_base_.split, overlap=0.3), _base_.pack]))
default_hooks = dict(logger=dict(interval=50))
