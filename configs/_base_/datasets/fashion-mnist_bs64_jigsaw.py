# Fashion-MNIST (real, offline: Debian package dataset-fashion-mnist, un-gzipped into data_root)
# for small-scale JigClu / MEJigClu pretraining. The 28 x 28 grey images are made 3-channel so
# that the backbone transfers to RGB tasks, split at native resolution into 2 x 2 patches
# (18-22 px) and each patch is resized to 16 px: a 32 px montage, which a ResNet with the
# small-image stem (ResNet_CIFAR: no stride-2 stem, no max-pool) maps to a 4 x 4 layer4,
# at least 2 x 2 cells per slot (DESIGN.md, "Small images").
dataset_type = 'FashionMNIST'
data_root = 'data/fashion_mnist/'
patch_size = 16

patch_pipeline = [
    dict(type='RandomResizedCrop', scale=patch_size, crop_ratio_range=(0.3, 1.0),
         backend='pillow'),
    dict(type='RandomApply',
         transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4)], prob=0.8),
    dict(type='RandomFlip', prob=0.5),
]
grey_to_rgb = [
    dict(type='NumpyToPIL', to_rgb=False),
    dict(type='torchvision/Grayscale', num_output_channels=3),
    dict(type='PILToNumpy', to_bgr=False),
]
train_pipeline = grey_to_rgb + [
    dict(type='JigsawSplit', grid=2, overlap=(0.15, 0.45), patch_pipeline=patch_pipeline),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=64,
    num_workers=2,
    drop_last=True,  # the classification head needs exactly N images per step
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='train', download=False,
                 pipeline=train_pipeline))
