# MEJigClu (Zhang et al.): clustering + patch classification heads, overlap ~ U(0.15, 0.45).
# Global batch 256 = 4 GPUs x 64 images. One class of L_cls per image of the global batch, and
# one fixed subset of the data set per class (DisjointSubsetBatchSampler): an image's label is its
# subset for the whole run. Changing GPUs or batch size: set num_gpus / batch_per_gpu here.
_base_ = [
    '../_base_/models/jigsaw_clustering_r50.py',
    '../_base_/datasets/imagenet_bs64_jigsaw.py',
    '../_base_/schedules/sgd_coslr_200e.py',
    '../_base_/default_runtime.py',
]

num_gpus, batch_per_gpu = 4, 64
# one class per image of the global batch = the sampler's subsets
model = dict(heads=dict(cls=dict(_base_.cls_head, num_classes=num_gpus * batch_per_gpu)))
# one image of each fixed subset of the data set per batch (the batch size is the dataloader's;
# the batch sampler drops the incomplete last batch itself: torch refuses drop_last beside it)
train_dataloader = dict(batch_size=batch_per_gpu, drop_last=False,
                        batch_sampler=dict(type='DisjointSubsetBatchSampler'),
                        dataset=dict(pipeline=_base_.mejigclu_pipeline))
# NHWC convolutions on a GPU (docs/speed.md)
custom_hooks = [dict(type='ChannelsLastHook')]
