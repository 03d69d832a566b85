# JigClu on CIFAR-100, the JigClu supplementary's CIFAR recipe (3.4): the CIFAR-10 config's
# model, schedule and batch on mmpretrain's CIFAR100 dataset with its mean / std.
_base_ = [
    '../_base_/models/jigsaw_clustering_r18-cifar.py',
    '../_base_/datasets/cifar100_bs128_jigsaw.py',
    '../_base_/schedules/sgd_coslr_100e.py',
    '../_base_/default_runtime.py',
]

model = dict(data_preprocessor=_base_.cifar_preprocessor, heads=dict(loc=_base_.loc_head))
train_dataloader = dict(dataset=dict(pipeline=_base_.jigclu_pipeline))
custom_hooks = [dict(type='ChannelsLastHook'), _base_.knn_monitor]
# the batch the schedule's lr 0.03 is set for here (mmengine's auto_scale_lr)
auto_scale_lr = dict(base_batch_size=128)
