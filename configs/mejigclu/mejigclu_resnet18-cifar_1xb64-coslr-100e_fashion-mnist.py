# MEJigClu on Fashion-MNIST (offline real data), one GPU or CPU: clustering + classification
# heads, overlap ~ U(0.15, 0.45), one class and one fixed subset of the data per image of the
# 64-image batch (DisjointSubsetBatchSampler); the online kNN monitor.
_base_ = [
    '../_base_/models/jigsaw_clustering_r18-cifar.py',
    '../_base_/datasets/fashion-mnist_bs64_jigsaw.py',
    '../_base_/schedules/sgd_coslr_100e.py',
    '../_base_/default_runtime.py',
]

num_gpus, batch_per_gpu = 1, 64
model = dict(heads=dict(cls=dict(_base_.cls_head, num_classes=num_gpus * batch_per_gpu)))
train_dataloader = dict(batch_size=batch_per_gpu, drop_last=False,
                        batch_sampler=dict(type='DisjointSubsetBatchSampler'),
                        dataset=dict(pipeline=_base_.mejigclu_pipeline))
# ChannelsLastHook: NHWC convolutions on a GPU (a no-op on the CPU, docs/speed.md).
custom_hooks = [dict(type='ChannelsLastHook'), _base_.knn_monitor]
default_hooks = dict(logger=dict(interval=50))
# the batch the schedule's lr 0.03 is set for here (mmengine's auto_scale_lr)
auto_scale_lr = dict(base_batch_size=64)
