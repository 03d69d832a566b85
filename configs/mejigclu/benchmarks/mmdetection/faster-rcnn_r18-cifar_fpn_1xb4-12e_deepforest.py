# A small detection benchmark on real offline data that trains on a CPU: Faster R-CNN with FPN
# on the small-image ResNet-18 of the Fashion-MNIST pretraining configs, fine-tuned on tree
# crowns from deepforest's aerial images (tools/data/prepare_deepforest.py: 400 px tiles, shown
# at 200 px so that crowns are about 20 px). Same protocol as the R50 config otherwise: no frozen
# stages, BN statistics trained. Set the converted backbone with
#   --cfg-options model.backbone.init_cfg.checkpoint=DST   (or init_cfg=None for random init)
_base_ = [
    '../../../_base_/models/faster-rcnn_r18-cifar_fpn.py',
    '../../../_base_/datasets/deepforest_detection.py',
    'mmdet::_base_/default_runtime.py',
    '../../../_base_/run_guards.py',
    '../../../_base_/transfer_guards.py',
]

custom_imports = dict(imports=['mejigclu_mm', 'mmpretrain.models'], allow_failed_imports=False)

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
# NHWC convolutions on a GPU (a no-op on the CPU; docs/speed.md); the annotations checked
# against the classes and the heads before the first step (what is dropped is logged).
custom_hooks = [dict(type='CheckInvalidLossHook', interval=1),
                dict(type='mmpretrain.ChannelsLastHook'),
                dict(type='mmpretrain.DetectionDataCheckHook'),
                _base_.backbone_loaded_hook,
                # (our choice) the colour aerial photos are normalised with mmdet's ImageNet
                # mean / std, not the grey Fashion-MNIST pretraining's (72.94 / 90.02): the guard
                # names it and the run trains on (docs/transfer.md, Guards of a transfer run)
                dict(_base_.transfer_guard_hook, allow_mismatch=True,
                     pretraining=_base_.fashion_mnist_pretraining)]
default_hooks = dict(checkpoint=dict(type='mmpretrain.AtomicCheckpointHook', interval=12),
                     logger=dict(type='LoggerHook', interval=5), **_base_.guard_hooks)
# mmdet's runtime names its visualizer 'visualizer', a process-wide singleton: a second run in
# the same process would log into the first run's folder. Without a name each run gets its own.
visualizer = dict(
    _delete_=True, type='DetLocalVisualizer', vis_backends=[dict(type='LocalVisBackend')])
# the batch the lr is set for (mmengine's auto_scale_lr; enable=True scales it)
auto_scale_lr = dict(enable=False, base_batch_size=4)
