# ImageNet-1k pretraining data for JigClu / MEJigClu: every image is split at native resolution
# into 2 x 2 patches, and each patch gets the MoCo v2 augmentation at 112 px (docs/design.md).
# The CPU decodes, splits and crops (random resized crop + flip: one resize per patch); the
# photometric recipe runs batched on the GPU (`photometric_on='device'`). One setting returns to
# the per-patch CPU pipeline: photometric_on='cpu' (same recipe, same code, in the workers), e.g.
#   --cfg-options train_dataloader.dataset.pipeline.1.photometric_on=cpu
dataset_type = 'ImageNet'
data_root = 'data/imagenet/'

# MoCo v2: ColorJitter(0.4, 0.4, 0.4, 0.1) p 0.8, RandomGrayscale p 0.2, GaussianBlur
# sigma ~ U(0.1, 2.0) p 0.5 (mejigclu_mm.augmentation.PatchPhotometric)
photometric = dict(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1, jitter_prob=0.8,
                   grayscale_prob=0.2, blur_sigma=(0.1, 2.0), blur_prob=0.5)
# MEJigClu's random overlap; JigClu configs set overlap=0.3.
split = dict(type='JigsawSplit', grid=2, overlap=(0.15, 0.45), patch_size=112,
             crop_scale=(0.2, 1.0), crop_ratio=(3. / 4., 4. / 3.), flip_prob=0.5,
             photometric=photometric, photometric_on='device', channel_order='bgr')
# jigsaw_photometric tells the data preprocessor what is left to do on the device
pack = dict(type='PackInputs', meta_keys=('sample_idx', 'img_path', 'jigsaw_photometric'))
# CheckedLoadImageFromFile refuses truncated / undecodable files by name (on_error='skip' skips
# them with a warning instead)
train_pipeline = [dict(type='CheckedLoadImageFromFile'), split, pack]

train_dataloader = dict(
    batch_size=64,
    num_workers=8,
    drop_last=True,  # the classification head needs exactly N images per step
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='train', pipeline=train_pipeline))
