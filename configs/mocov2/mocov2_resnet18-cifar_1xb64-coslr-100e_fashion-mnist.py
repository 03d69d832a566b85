# MoCo v2 (mmpretrain's implementation, unchanged) as the peer baseline of the Fashion-MNIST
# configs: the same small-image ResNet-18, data, batch (64 images), optimizer and schedule as
# {mejigclu,jigclu}_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py, so that `make demo`
# (DEMO_MOCO=1) can add it as a row. Two 32 px views per image with MoCo v2's augmentations
# minus those that do nothing or too much here: no saturation / hue / grayscale (grey images),
# no Gaussian blur (sigma up to 2 px erases a 32 px image, as SimCLR's CIFAR recipe also drops
# it). The queue holds 4096 keys (64 batches) instead of 65536, for small data sets.
_base_ = [
    '../_base_/datasets/fashion-mnist_bs64_jigsaw.py',
    '../_base_/schedules/sgd_coslr_100e.py',
    '../_base_/default_runtime.py',
]

view_pipeline = [
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.2, 1.0), backend='pillow'),
    dict(type='RandomApply',
         transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4)], prob=0.8),
    dict(type='RandomFlip', prob=0.5),
]
train_pipeline = _base_.grey_to_rgb + [
    dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
custom_hooks = [dict(type='ChannelsLastHook'), _base_.knn_monitor]

model = dict(
    type='MoCo',
    queue_len=4096,  # a multiple of the batch (mmpretrain's MoCo asserts it)
    feat_dim=128,
    momentum=0.001,  # mmpretrain's convention: 1 - 0.999
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[72.94, 72.94, 72.94],  # Fashion-MNIST, 0-255 scale
        std=[90.02, 90.02, 90.02],
        to_rgb=False),
    backbone=dict(
        type='ResNet_CIFAR',
        depth=18,
        norm_cfg=dict(type='BN'),
        zero_init_residual=False),
    neck=dict(
        type='MoCoV2Neck',
        in_channels=512,
        hid_channels=512,
        out_channels=128,
        with_avg_pool=True),
    head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.2))
default_hooks = dict(logger=dict(interval=50))
# the batch the schedule's lr 0.03 is set for here (mmengine's auto_scale_lr)
auto_scale_lr = dict(base_batch_size=64)
