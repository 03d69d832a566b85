# Linear evaluation on ImageNet-1k (JigClu protocol): the pretrained ResNet-50 is frozen,
# including its BN statistics; global average pooling; a linear fc initialised N(0, 0.01);
# SGD momentum 0.9, no weight decay, batch 256 (4 GPUs x 64), 100 epochs, x0.1 at 60 and 80.
# lr 10 as in the reference code (the supplementary says 30: see the lr30 config).
# Set the backbone with
#   --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/.../epoch_200.pth
_base_ = '../../_base_/resnet50_in1k_transfer.py'

model = dict(backbone=dict(frozen_stages=4, norm_eval=True))
optim_wrapper = dict(optimizer=dict(lr=10.))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[60, 80], gamma=0.1)]
