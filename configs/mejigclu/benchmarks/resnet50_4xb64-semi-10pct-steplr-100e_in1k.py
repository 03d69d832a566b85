# Semi-supervised fine-tuning with 10 % of ImageNet-1k labels (JigClu supplementary 3.2): the
# whole network is trained, SyncBN, no weight decay, batch 256 (4 GPUs x 64), 100 epochs, x0.1 at
# 30 / 60 / 90; backbone lr 0.01 and head lr 0.2, applied separately through paramwise_cfg (the
# reference code overwrote the head lr with the backbone lr).
# The labelled subset is an annotation file in mmpretrain's format ("path label" per line),
# e.g. meta/train_10percent.txt from the SimCLR subset lists.
_base_ = [
    'mmpretrain::_base_/models/resnet50.py',
    'mmpretrain::_base_/datasets/imagenet_bs32_pil_resize.py',
    'mmpretrain::_base_/schedules/imagenet_sgd_steplr_100e.py',
    '../../_base_/default_runtime.py',
    '../../_base_/transfer_guards.py',
]

backbone_lr, head_lr = 0.01, 0.2
model = dict(
    backbone=dict(
        frozen_stages=-1,
        norm_eval=False,
        norm_cfg=dict(type='SyncBN'),
        init_cfg=dict(type='StrictPretrained', checkpoint=None)),  # backbone found in the file
    head=dict(init_cfg=dict(type='Normal', layer='Linear', std=0.01)))
train_dataloader = dict(
    batch_size=64, num_workers=8,
    dataset=dict(ann_file='meta/train_10percent.txt'))
val_dataloader = dict(batch_size=64, num_workers=8)
test_dataloader = val_dataloader

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=backbone_lr, momentum=0.9, weight_decay=0.),
    paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=head_lr / backbone_lr)}))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[30, 60, 90], gamma=0.1)]
auto_scale_lr = dict(base_batch_size=256)
# a backbone that loaded nothing of its checkpoint stops the run (configs/_base_/transfer_guards.py)
custom_hooks = _base_.transfer_guard_hooks
