# Linear evaluation on ImageNet-1k (JigClu protocol): the pretrained ResNet-50 is frozen,
# including its BN statistics; global average pooling; a linear fc initialised N(0, 0.01);
# SGD momentum 0.9, no weight decay, batch 256 (4 GPUs x 64), 100 epochs, x0.1 at 60 and 80.
# lr 10 as in the reference code (the supplementary says 30: see the lr30 config).
# Set the backbone with
#   --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/.../epoch_200.pth
_base_ = [
    'mmpretrain::_base_/models/resnet50.py',
    'mmpretrain::_base_/datasets/imagenet_bs32_pil_resize.py',
    'mmpretrain::_base_/schedules/imagenet_sgd_steplr_100e.py',
    '../../_base_/default_runtime.py',
    '../../_base_/transfer_guards.py',
]

model = dict(
    backbone=dict(
        frozen_stages=4,
        norm_eval=True,
        init_cfg=dict(type='StrictPretrained', checkpoint=None)),  # backbone found in the file
    head=dict(init_cfg=dict(type='Normal', layer='Linear', std=0.01)))
train_dataloader = dict(batch_size=64, num_workers=8)
val_dataloader = dict(batch_size=64, num_workers=8)
test_dataloader = val_dataloader

optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='SGD', lr=10., momentum=0.9, weight_decay=0.))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[60, 80], gamma=0.1)]
auto_scale_lr = dict(base_batch_size=256)
# a backbone that loaded nothing of its checkpoint stops the run (configs/_base_/transfer_guards.py)
custom_hooks = _base_.transfer_guard_hooks
