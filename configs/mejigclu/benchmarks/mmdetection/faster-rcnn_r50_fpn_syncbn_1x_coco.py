# Faster R-CNN R50-FPN on COCO from a self-supervised backbone (JigClu / MEJigClu protocol, after
# MoCo's detection benchmark): SyncBN in the backbone, the FPN and a 4conv1fc box head, no frozen
# stages, BN statistics trained (norm_eval=False), multi-scale training (short side 640-800),
# 1x schedule (12 epochs, batch 16 = 8 GPUs x 2, lr 0.02).
# Give the converted backbone (tools/convert_weights.py SRC DST --to mmdet) with
#   --cfg-options model.backbone.init_cfg.checkpoint=DST
_base_ = [
    'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
    '../../../_base_/run_guards.py',
    '../../../_base_/transfer_guards.py',
]

custom_imports = dict(imports=['mejigclu_mm'], allow_failed_imports=False)
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    backbone=dict(
        frozen_stages=-1,
        norm_cfg=norm_cfg,
        norm_eval=False,
        init_cfg=dict(type='StrictPretrained', checkpoint=None)),
    neck=dict(norm_cfg=norm_cfg),
    roi_head=dict(
        bbox_head=dict(
            type='Shared4Conv1FCBBoxHead', conv_out_channels=256, norm_cfg=norm_cfg)),
    test_cfg=dict(rpn=dict(nms_pre=6000, max_per_img=1000)))  # see below

# Where the papers are silent, the reference code: detectron2's Base-RCNN-FPN.yaml, on which the
# official JigClu detection/configs/R50-JigClu.yaml builds (issue 26.4):
# - warm-up 1000 iterations (detectron2's WARMUP_ITERS; mmdet's 500), factor 0.001 as both;
# - no weight decay on norm layers (detectron2's WEIGHT_DECAY_NORM: 0; mmdet decays them);
# - 6000 / 1000 RPN proposals before / after NMS at test (R50-JigClu.yaml's PRE_NMS_TOPK_TEST /
#   POST_NMS_TOPK_TEST; mmdet's 1000 / 1000).
# Not reproduced, stated: detectron2's TEST.PRECISE_BN (BN statistics re-estimated on 200
# training batches of 8 before each evaluation); the evaluated statistics are the running
# averages of training (mmdet's usual). mmpretrain's PreciseBNHook (after each epoch, the
# model's tensor-mode forward on training batches) is untested here with mmdet's detectors and
# SyncBN; to try it: custom_hooks += [dict(type='mmpretrain.PreciseBNHook', num_samples=1600)].
optim_wrapper = dict(paramwise_cfg=dict(norm_decay_mult=0.))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=1000),
    dict(type='MultiStepLR', by_epoch=True, begin=0, end=12, milestones=[8, 11], gamma=0.1),
]

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomChoiceResize',
         scales=[(1333, 640), (1333, 672), (1333, 704), (1333, 736), (1333, 768), (1333, 800)],
         keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
# the annotations checked against the classes and the heads before the first step
custom_hooks = [dict(type='mmpretrain.DetectionDataCheckHook')] + _base_.transfer_guard_hooks
default_hooks = dict(checkpoint=dict(type='mmpretrain.AtomicCheckpointHook'), **_base_.guard_hooks)
# mmdet's runtime names its visualizer 'visualizer', a process-wide singleton: a second run in
# the same process would log into the first run's folder. Without a name each run gets its own.
visualizer = dict(
    _delete_=True, type='DetLocalVisualizer', vis_backends=[dict(type='LocalVisBackend')])
