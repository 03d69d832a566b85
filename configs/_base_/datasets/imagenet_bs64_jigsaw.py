# ImageNet-1k pretraining data for JigClu / MEJigClu: every image is split at native resolution
# into 2 x 2 patches, and each patch gets the MoCo v2 geometry at 112 px (docs/design.md). The
# CPU decodes, splits and crops (random resized crop + flip: one resize per patch) and ships
# uint8 patches; the photometric recipe runs batched on the GPU (the model's data preprocessor).
# The CPU fallback applies it in the workers instead: move the recipe from
# model.data_preprocessor.photometric to JigsawSplit(photometric=...) (docs/design.md).
# A pretraining config picks its method's pipeline: jigclu_pipeline or mejigclu_pipeline.
# Images are decoded as RGB: the loader is the one place that states the colour order.
_base_ = './pretraining_loader.py'
dataset_type = 'ImageNet'
data_root = 'data/imagenet/'

# The two methods' splits differ in the overlap only: JigClu's fixed 0.3, MEJigClu's random
# U(0.15, 0.45) per image.
jigclu_split = dict(type='JigsawSplit', grid=2, overlap=0.3, patch_size=112,
                    crop_scale=(0.2, 1.0), crop_ratio=(3. / 4., 4. / 3.), flip_prob=0.5)
mejigclu_split = dict(jigclu_split, overlap=(0.15, 0.45))
# CheckedLoadImageFromFile refuses truncated / undecodable files by name (on_error='skip' skips
# them with a warning instead)
load = dict(type='CheckedLoadImageFromFile', channel_order='rgb')
jigclu_pipeline = [load, jigclu_split, _base_.pack]
mejigclu_pipeline = [load, mejigclu_split, _base_.pack]

train_dataloader = dict(
    batch_size=64, num_workers=8,
    dataset=dict(type=dataset_type, data_root=data_root, split='train'))

# Whole images for inference (tools/extract_features.py, mmpretrain's FeatureExtractor through
# mejigclu_mm.evaluation.inference_config): the linear protocol's test view.
test_pipeline = [
    load,
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
# the online kNN monitor (configs/_base_/datasets/pretraining_loader.py) queries the val split
knn_monitor = dict(dataset=dict(pipeline=test_pipeline),
                   query_dataloader=dict(dataset=dict(split='val')))
