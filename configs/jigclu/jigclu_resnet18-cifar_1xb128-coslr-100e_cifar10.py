# JigClu on CIFAR-10, the JigClu supplementary's CIFAR recipe (3.4): 100 epochs at 128 images
# per step on one GPU, ResNet-18 for small images with its strides unchanged (ResNet_CIFAR).
# Clustering + location heads, overlap 0.3. The supplementary states no pretraining learning
# rate: the papers' 0.03, cosine to 0.
_base_ = [
    '../_base_/models/jigsaw_clustering_r18-cifar.py',
    '../_base_/datasets/cifar10_bs128_jigsaw.py',
    '../_base_/schedules/sgd_coslr_100e.py',
    '../_base_/default_runtime.py',
]

model = dict(data_preprocessor=_base_.cifar_preprocessor, heads=dict(loc=_base_.loc_head))
train_dataloader = dict(dataset=dict(pipeline=_base_.jigclu_pipeline))
custom_hooks = [dict(type='ChannelsLastHook'), _base_.knn_monitor]
# the batch the schedule's lr 0.03 is set for here (mmengine's auto_scale_lr)
auto_scale_lr = dict(base_batch_size=128)
