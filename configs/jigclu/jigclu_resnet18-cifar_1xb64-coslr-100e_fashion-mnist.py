# JigClu on Fashion-MNIST (offline real data): clustering + location heads, overlap 0.3; the
# online kNN monitor.
_base_ = [
    '../_base_/models/jigsaw_clustering_r18-cifar.py',
    '../_base_/datasets/fashion-mnist_bs64_jigsaw.py',
    '../_base_/schedules/sgd_coslr_100e.py',
    '../_base_/default_runtime.py',
]

model = dict(heads=dict(loc=_base_.loc_head))
train_dataloader = dict(dataset=dict(pipeline=_base_.jigclu_pipeline))
# ChannelsLastHook: NHWC convolutions on a GPU (a no-op on the CPU, docs/speed.md).
custom_hooks = [dict(type='ChannelsLastHook'), _base_.knn_monitor]
default_hooks = dict(logger=dict(interval=50))
# the batch the schedule's lr 0.03 is set for here (mmengine's auto_scale_lr)
auto_scale_lr = dict(base_batch_size=64)
