# MEJigClu (Zhang et al.): clustering + patch classification heads, overlap ~ U(0.15, 0.45).
# Global batch 256 = 4 GPUs x 64 images. One class of L_cls per image of the global batch, and
# one fixed subset of the data set per class (DisjointSubsetSampler): an image's label is its
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
train_dataloader = dict(
    batch_size=batch_per_gpu,
    sampler=dict(_delete_=True, type='DisjointSubsetSampler', batch_size=batch_per_gpu))
# NHWC convolutions: on an H100 the bf16 ResNet-50 step of MEJigClu went from 802 to 3542
# images/s with channels-last (measured for the speed issue; tools/benchmark.py --device cuda
# --only model compares the layouts).
custom_hooks = [dict(type='ChannelsLastHook')]
