# ImageNet-1k pretraining data for JigClu / MEJigClu: every image is split at native resolution
# into 2 x 2 patches, and each patch gets the MoCo v2 augmentation at 112 px (DESIGN.md).
dataset_type = 'ImageNet'
data_root = 'data/imagenet/'

patch_pipeline = [
    dict(type='RandomResizedCrop', scale=112, crop_ratio_range=(0.2, 1.0),
         aspect_ratio_range=(3. / 4., 4. / 3.), backend='pillow'),
    dict(type='RandomApply',
         transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4,
                          hue=0.1)],
         prob=0.8),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True,
         channel_weights=(0.114, 0.587, 0.2989)),
    dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf', prob=0.5),
    dict(type='RandomFlip', prob=0.5),
]
# MEJigClu's random overlap; JigClu configs set overlap=0.3.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='JigsawSplit', grid=2, overlap=(0.15, 0.45), patch_pipeline=patch_pipeline),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=64,
    num_workers=8,
    drop_last=True,  # the classification head needs exactly N images per step
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='train', pipeline=train_pipeline))
