# JigClu (Chen et al., CVPR 2021): clustering + location heads, fixed overlap 0.3.
_base_ = [
    '../_base_/models/jigsaw_clustering_r50.py',
    '../_base_/datasets/imagenet_bs64_jigsaw.py',
    '../_base_/schedules/sgd_coslr_200e.py',
    '../_base_/default_runtime.py',
]

model = dict(heads=dict(loc=dict(type='LocationHead', grid=2, in_channels=2048, loss_weight=1.0)))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='JigsawSplit', grid=2, overlap=0.3, patch_pipeline=_base_.patch_pipeline),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
