# The linear protocol on Fashion-MNIST (offline real data) for the small-image ResNet-18 of the
# Fashion-MNIST pretraining configs: frozen backbone incl. BN statistics, global average
# pooling, linear fc N(0, 0.01), SGD lr 10 (reference code), momentum 0.9, no weight decay,
# 100 epochs, x0.1 at 60 and 80. Images are made 3-channel and resized to the montage size the
# backbone was pretrained at (32 px); train aug: random resized crop + flip.
_base_ = ['../../_base_/models/resnet18-cifar_linear.py', '../../_base_/default_runtime.py',
          '../../_base_/transfer_guards.py']

data_root = 'data/fashion_mnist/'
grey_to_rgb = [
    dict(type='NumpyToPIL', to_rgb=False),
    dict(type='torchvision/Grayscale', num_output_channels=3),
    dict(type='PILToNumpy', to_bgr=False),
]
train_pipeline = grey_to_rgb + [
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.5, 1.0), backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackInputs'),
]
test_pipeline = grey_to_rgb + [
    dict(type='Resize', scale=(32, 32), backend='pillow'),
    dict(type='PackInputs'),
]

model = dict(data_preprocessor=dict(
    num_classes=10, mean=[72.94, 72.94, 72.94], std=[90.02, 90.02, 90.02], to_rgb=False))

train_dataloader = dict(
    batch_size=256, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='FashionMNIST', data_root=data_root, split='train', download=False,
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=256, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    # mmpretrain 1.2.0's MNIST datasets choose their files by test_mode, not by split: without
    # test_mode=True, split='test' silently evaluates on the 60k training images.
    dataset=dict(type='FashionMNIST', data_root=data_root, split='test', test_mode=True,
                 download=False, pipeline=test_pipeline))
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator

optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='SGD', lr=10., momentum=0.9, weight_decay=0.))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[60, 80], gamma=0.1)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100, val_interval=10)
# Speed only, on a GPU (a no-op on the CPU): NHWC convolutions (docs/speed.md)
custom_hooks = [
    dict(type='ChannelsLastHook'), _base_.backbone_loaded_hook,
    dict(_base_.transfer_guard_hook, pretraining=_base_.fashion_mnist_pretraining)]
val_cfg = dict()
test_cfg = dict()
# the batch lr 10 is set for (mmengine's auto_scale_lr)
auto_scale_lr = dict(base_batch_size=256)
