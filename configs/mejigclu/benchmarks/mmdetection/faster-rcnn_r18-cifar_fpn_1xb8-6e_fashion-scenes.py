# The demo's detection transfer: Faster R-CNN with FPN on the small-image ResNet-18 of the
# Fashion-MNIST pretraining configs, fine-tuned on scenes of real Fashion-MNIST test-split
# garments (tools/data/prepare_fashion_scenes.py: 64 px grey canvases, 2-4 garments of 20-36 px,
# one box per garment, 10 classes; docs/transfer.md). The detector is the deepforest config's
# (strides 2-16) with a box head for the 10 classes and proposal counts for scenes of at most 4
# objects. (our choice) The backbone is frozen, BN statistics included: the heads learn on each
# backbone's features, which separates backbones at a CPU's budget where fine-tuning them does
# not (docs/transfer.md has the figures); for full fine-tuning set
#   --cfg-options model.backbone.frozen_stages=-1 model.backbone.norm_eval=False
# Set the backbone with
#   --cfg-options model.backbone.init_cfg.checkpoint=CKPT   (pretraining or converted file)
#   --cfg-options model.backbone.init_cfg=None              (random init)
_base_ = [
    '../../../_base_/models/faster-rcnn_r18-cifar_fpn.py',
    '../../../_base_/datasets/fashion-scenes_detection.py',
    '../../../_base_/schedules/scenes_6e.py',
    'mmdet::_base_/default_runtime.py',
    '../../../_base_/run_guards.py',
    '../../../_base_/transfer_guards.py',
]

custom_imports = dict(imports=['mejigclu_mm', 'mmpretrain.models'], allow_failed_imports=False)
model = dict(
    backbone=dict(frozen_stages=4, norm_eval=True),
    # the pretraining's normalisation (Fashion-MNIST's grey mean / std, 0-255 scale)
    data_preprocessor=dict(mean=[72.94, 72.94, 72.94], std=[90.02, 90.02, 90.02],
                           bgr_to_rgb=False),
    roi_head=dict(bbox_head=dict(num_classes=10)),
    train_cfg=dict(rpn_proposal=dict(nms_pre=500, max_per_img=100),
                   rcnn=dict(sampler=dict(num=64))),
    test_cfg=dict(rpn=dict(nms_pre=500, max_per_img=100), rcnn=dict(max_per_img=100)))

max_epochs = _base_.max_epochs
# (our choice) mmdet's 0.02 at 8 images, only the heads train; gradients clipped at norm 10,
# for the first iterations of heads that start from scratch. One step x0.1 at 2/3 of the
# schedule.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=1e-4),
    clip_grad=dict(max_norm=10, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='MultiStepLR', by_epoch=True, begin=0, end=max_epochs, milestones=[4], gamma=0.1),
]
# Stop with an error at the first non-finite loss instead of evaluating a diverged model;
# NHWC convolutions on a GPU (a no-op on the CPU; docs/speed.md); the annotations checked
# against the classes and the heads before the first step (what is dropped is logged).
custom_hooks = [dict(type='CheckInvalidLossHook', interval=1),
                dict(type='mmpretrain.ChannelsLastHook'),
                dict(type='mmpretrain.DetectionDataCheckHook'),
                _base_.backbone_loaded_hook,
                dict(_base_.transfer_guard_hook, pretraining=_base_.fashion_mnist_pretraining)]
default_hooks = dict(checkpoint=dict(type='mmpretrain.AtomicCheckpointHook', interval=max_epochs),
                     logger=dict(type='LoggerHook', interval=20), **_base_.guard_hooks)
# mmdet's runtime names its visualizer 'visualizer', a process-wide singleton: a second run in
# the same process would log into the first run's folder. Without a name each run gets its own.
visualizer = dict(
    _delete_=True, type='DetLocalVisualizer', vis_backends=[dict(type='LocalVisBackend')])
# the batch the lr is set for (mmengine's auto_scale_lr; enable=True scales it)
auto_scale_lr = dict(enable=False, base_batch_size=8)
