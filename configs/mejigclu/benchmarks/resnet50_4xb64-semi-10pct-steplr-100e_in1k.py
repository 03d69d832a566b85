# Semi-supervised fine-tuning with 10 % of ImageNet-1k labels (JigClu supplementary 3.2): the
# whole network is trained, SyncBN, no weight decay, batch 256 (4 GPUs x 64), 100 epochs, x0.1 at
# 30 / 60 / 90; backbone lr 0.01 and head lr 0.2, applied separately through paramwise_cfg (the
# reference code overwrote the head lr with the backbone lr).
# The labelled subset is an annotation file in mmpretrain's format ("path label" per line),
# e.g. meta/train_10percent.txt from the SimCLR subset lists.
_base_ = '../../_base_/resnet50_in1k_transfer.py'

backbone_lr, head_lr = 0.01, 0.2
model = dict(backbone=dict(frozen_stages=-1, norm_eval=False, norm_cfg=dict(type='SyncBN')))
train_dataloader = dict(dataset=dict(ann_file='meta/train_10percent.txt'))
optim_wrapper = dict(
    optimizer=dict(lr=backbone_lr),
    paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=head_lr / backbone_lr)}))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[30, 60, 90], gamma=0.1)]
