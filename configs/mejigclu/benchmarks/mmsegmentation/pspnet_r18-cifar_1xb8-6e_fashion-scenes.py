# The demo's segmentation transfer: a small PSPNet (the supplementary's head, at the scenes'
# size) on the small-image ResNet-18 of the Fashion-MNIST pretraining configs, fine-tuned on
# scenes of real Fashion-MNIST test-split garments (configs/_base_/datasets/
# fashion-scenes_segmentation.py: 11 classes with the background; docs/transfer.md).
# Layer4 at stride 8 (8 x 8 on a 64 px scene), pyramid pooling over 1 / 2 / 4 bins, an FCN
# auxiliary head on layer3 (loss weight 0.4). (our choice) The backbone is frozen, BN
# statistics included, as in the scenes' detection config (docs/transfer.md); for full
# fine-tuning set
#   --cfg-options model.backbone.frozen_stages=-1 model.backbone.norm_eval=False
# Set the backbone with
#   --cfg-options model.backbone.init_cfg.checkpoint=CKPT   (pretraining or converted file)
#   --cfg-options model.backbone.init_cfg=None              (random init)
_base_ = [
    '../../../_base_/datasets/fashion-scenes_segmentation.py',
    '../../../_base_/schedules/scenes_6e.py',
    'mmseg::_base_/default_runtime.py',
    '../../../_base_/run_guards.py',
    '../../../_base_/transfer_guards.py',
]

custom_imports = dict(imports=['mejigclu_mm', 'mmpretrain.models'], allow_failed_imports=False)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(  # the pretraining's normalisation (Fashion-MNIST, 0-255 scale)
        type='SegDataPreProcessor', mean=[72.94, 72.94, 72.94], std=[90.02, 90.02, 90.02],
        bgr_to_rgb=False, pad_val=0, seg_pad_val=255, size_divisor=8),
    backbone=dict(
        type='mmpretrain.ResNet_CIFAR',  # strides 1, 2, 4, 8 (no stride-2 stem, no max-pool)
        depth=18,
        out_indices=(2, 3),
        frozen_stages=4,
        norm_eval=True,
        norm_cfg=norm_cfg,
        # with init_cfg=None a live random network, as the pretraining starts from (not
        # mmpretrain's zero-initialised residual branches); a loaded checkpoint is unaffected
        zero_init_residual=False,
        init_cfg=dict(type='StrictPretrained', checkpoint=None)),
    decode_head=dict(
        type='PSPHead', in_channels=512, in_index=1, channels=128, pool_scales=(1, 2, 4),
        dropout_ratio=0.1, num_classes=11, norm_cfg=norm_cfg, align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0,
                         avg_non_ignore=True)),
    auxiliary_head=dict(
        type='FCNHead', in_channels=256, in_index=0, channels=64, num_convs=1,
        concat_input=False, dropout_ratio=0.1, num_classes=11, norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4,
                         avg_non_ignore=True)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

max_epochs = _base_.max_epochs
optim_wrapper = dict(
    type='OptimWrapper',
    # (our choice) 5x mmseg's 0.01: only the heads train (docs/transfer.md has the figures)
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=0.0005))
param_scheduler = [
    dict(type='PolyLR', eta_min=0, power=0.9, begin=0, end=max_epochs, by_epoch=True,
         convert_to_iter_based=True)
]
# NHWC convolutions on a GPU (a no-op on the CPU; docs/speed.md); the label maps checked
# against the classes, ignore_index and the heads before the first step.
custom_hooks = [dict(type='mmpretrain.ChannelsLastHook'),
                dict(type='mmpretrain.SegmentationDataCheckHook'),
                _base_.backbone_loaded_hook,
                dict(_base_.transfer_guard_hook, pretraining=_base_.fashion_mnist_pretraining)]
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=True),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='mmpretrain.AtomicCheckpointHook', by_epoch=True, interval=max_epochs),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'),
    **_base_.guard_hooks)
log_processor = dict(by_epoch=True)
# mmseg's runtime names its visualizer 'visualizer', a process-wide singleton: a second run in
# the same process would log into the first run's folder. Without a name each run gets its own.
visualizer = dict(
    _delete_=True, type='SegLocalVisualizer', vis_backends=[dict(type='LocalVisBackend')])
# the batch the lr is set for (mmengine's auto_scale_lr; enable=True scales it)
auto_scale_lr = dict(enable=False, base_batch_size=8)
