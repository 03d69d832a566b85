# MEJigClu on CIFAR-10, the JigClu supplementary's CIFAR recipe (3.4): 100 epochs at 128 images
# per step on one GPU, ResNet-18 for small images with its strides unchanged (ResNet_CIFAR).
# Clustering + classification heads, overlap ~ U(0.15, 0.45), one class and one fixed subset of
# the data per image of the 128-image batch (DisjointSubsetBatchSampler). The supplementary
# states no pretraining learning rate: the papers' 0.03, cosine to 0.
_base_ = [
    '../_base_/models/jigsaw_clustering_r18-cifar.py',
    '../_base_/datasets/cifar10_bs128_jigsaw.py',
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
