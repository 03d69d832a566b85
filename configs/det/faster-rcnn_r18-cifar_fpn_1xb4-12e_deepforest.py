# A small detection benchmark on real offline data that trains on a CPU: Faster R-CNN with FPN
# on the small-image ResNet-18 of the Fashion-MNIST pretraining configs, fine-tuned on tree
# crowns from deepforest's aerial images (tools/data/prepare_deepforest.py: 400 px tiles, shown
# at 200 px so that crowns are about 20 px). Same protocol as the R50 config otherwise: no frozen
# stages, BN statistics trained. Set the converted backbone with
#   --cfg-options model.backbone.init_cfg.checkpoint=DST   (or init_cfg=None for random init)
_base_ = [
    'mmdet::_base_/models/faster-rcnn_r50_fpn.py',
    'mmdet::_base_/default_runtime.py',
]

custom_imports = dict(imports=['mejigclu_mm', 'mmpretrain.models'], allow_failed_imports=False)
image_size = 200
model = dict(
    data_preprocessor=dict(pad_size_divisor=16),
    backbone=dict(
        _delete_=True,
        type='mmpretrain.ResNet_CIFAR',  # strides 1, 2, 4, 8 (no stride-2 stem, no max-pool)
        depth=18,
        out_indices=(1, 2, 3),
        frozen_stages=-1,
        norm_eval=False,
        norm_cfg=dict(type='BN', requires_grad=True),
        init_cfg=dict(type='StrictPretrained', checkpoint=None)),
    neck=dict(in_channels=[128, 256, 512], out_channels=64, num_outs=4),
    rpn_head=dict(
        in_channels=64, feat_channels=64,
        anchor_generator=dict(scales=[8], ratios=[0.5, 1.0, 2.0], strides=[2, 4, 8, 16])),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64, featmap_strides=[2, 4, 8, 16]),
        bbox_head=dict(in_channels=64, fc_out_channels=256, num_classes=1)),
    test_cfg=dict(rcnn=dict(max_per_img=200)))

dataset_type = 'CocoDataset'
data_root = 'data/deepforest/'
metainfo = dict(classes=('tree', ))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(image_size, image_size), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(image_size, image_size), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(
    batch_size=4, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(type=dataset_type, data_root=data_root, metainfo=metainfo,
                 ann_file='annotations/train.json', data_prefix=dict(img='images/'),
                 filter_cfg=dict(filter_empty_gt=True), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4, num_workers=2, persistent_workers=True, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, metainfo=metainfo,
                 ann_file='annotations/val.json', data_prefix=dict(img='images/'),
                 test_mode=True, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='CocoMetric', ann_file=data_root + 'annotations/val.json',
                     metric='bbox', format_only=False)
test_evaluator = val_evaluator

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=12, val_interval=12)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    # mmdet's 0.02 is for 16 images per step; linearly scaled to this config's 4 (at 0.02,
    # runs from pretrained backbones diverged to NaN in the second epoch).
    optimizer=dict(type='SGD', lr=0.005, momentum=0.9, weight_decay=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='MultiStepLR', by_epoch=True, begin=0, end=12, milestones=[8, 11], gamma=0.1),
]
# Stop with an error at the first non-finite loss instead of evaluating a diverged model;
# NHWC convolutions on a GPU (a no-op on the CPU; docs/speed.md).
custom_hooks = [dict(type='CheckInvalidLossHook', interval=1),
                dict(type='mmpretrain.ChannelsLastHook')]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=12),
                     logger=dict(type='LoggerHook', interval=5))
# mmdet's runtime names its visualizer 'visualizer', a process-wide singleton: a second run in
# the same process would log into the first run's folder. Without a name each run gets its own.
visualizer = dict(
    _delete_=True, type='DetLocalVisualizer', vis_backends=[dict(type='LocalVisBackend')])
