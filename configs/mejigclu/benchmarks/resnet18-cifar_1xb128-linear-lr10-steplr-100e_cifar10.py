# Linear evaluation on CIFAR-10, the JigClu supplementary's CIFAR recipe (3.4): frozen
# ResNet-18 for small images (ResNet_CIFAR, strides unchanged) incl. BN statistics, global
# average pooling, linear fc N(0, 0.01), SGD lr 10, momentum 0.9, no weight decay, 100 epochs,
# x0.2 at 40 / 60 / 80; augmentation by 4 px padding, random 32 px crop and flip (mmpretrain's
# CIFAR-10 data config and CIFAR10 dataset); 128 images per step, one GPU. Set the backbone with
#   --cfg-options model.backbone.init_cfg.checkpoint=CKPT   (pretraining or converted file)
_base_ = [
    '../../_base_/models/resnet18-cifar_linear.py',
    'mmpretrain::_base_/datasets/cifar10_bs16.py',
    '../../_base_/default_runtime.py',
    '../../_base_/transfer_guards.py',
]

num_classes = 10
model = dict(
    data_preprocessor=_base_.data_preprocessor,  # CIFAR-10's mean / std, RGB arrays
    head=dict(num_classes=num_classes, topk=(1, 5)))

train_dataloader = dict(batch_size=128, dataset=dict(download=False))
val_dataloader = dict(batch_size=256, dataset=dict(download=False))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_evaluator = val_evaluator

optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='SGD', lr=10., momentum=0.9, weight_decay=0.))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[40, 60, 80], gamma=0.2)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100, val_interval=10)
val_cfg = dict()
test_cfg = dict()
# the batch lr 10 (and the fine-tuning configs' 0.1) is set for (mmengine's auto_scale_lr)
auto_scale_lr = dict(base_batch_size=128)
# a backbone that loaded nothing of its checkpoint stops the run (configs/_base_/transfer_guards.py)
custom_hooks = _base_.transfer_guard_hooks
