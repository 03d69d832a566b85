# What the ImageNet-1k transfer protocols of the JigClu supplementary share (linear evaluation,
# semi-supervised fine-tuning): mmpretrain's ResNet-50 classifier whose backbone comes from a
# pretraining checkpoint (StrictPretrained finds it in any of the field's layouts; set
#   --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/.../epoch_200.pth),
# the fc initialised N(0, 0.01); batch 256 (4 GPUs x 64), SGD momentum 0.9 without weight decay,
# 100 epochs; the run and transfer guards.
_base_ = [
    'mmpretrain::_base_/models/resnet50.py',
    'mmpretrain::_base_/datasets/imagenet_bs32_pil_resize.py',
    'mmpretrain::_base_/schedules/imagenet_sgd_steplr_100e.py',
    './default_runtime.py',
    './transfer_guards.py',
]

model = dict(
    backbone=dict(init_cfg=dict(type='StrictPretrained', checkpoint=None)),
    head=dict(init_cfg=dict(type='Normal', layer='Linear', std=0.01)))
train_dataloader = dict(batch_size=64, num_workers=8)
val_dataloader = dict(batch_size=64, num_workers=8)
test_dataloader = val_dataloader
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', momentum=0.9, weight_decay=0.))
auto_scale_lr = dict(base_batch_size=256)
# a backbone that loaded nothing of its checkpoint stops the run (configs/_base_/transfer_guards.py)
custom_hooks = _base_.transfer_guard_hooks
