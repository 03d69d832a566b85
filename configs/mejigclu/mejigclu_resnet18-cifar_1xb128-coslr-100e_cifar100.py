# MEJigClu on CIFAR-100, the JigClu supplementary's CIFAR recipe (3.4): the CIFAR-10 config's
# model, schedule and batch on mmpretrain's CIFAR100 dataset with its mean / std.
_base_ = [
    '../_base_/models/jigsaw_clustering_r18-cifar.py',
    '../_base_/datasets/cifar100_bs128_jigsaw.py',
    '../_base_/schedules/sgd_coslr_100e.py',
    '../_base_/default_runtime.py',
]

num_gpus, batch_per_gpu = 1, 128
model = dict(data_preprocessor=_base_.cifar_preprocessor,
             heads=dict(cls=dict(_base_.cls_head, num_classes=num_gpus * batch_per_gpu)))
train_dataloader = dict(batch_size=batch_per_gpu, drop_last=False,
                        batch_sampler=dict(type='DisjointSubsetBatchSampler'),
                        dataset=dict(pipeline=_base_.mejigclu_pipeline))
custom_hooks = [dict(type='ChannelsLastHook'), _base_.knn_monitor]
# the batch the schedule's lr 0.03 is set for here (mmengine's auto_scale_lr)
auto_scale_lr = dict(base_batch_size=128)
