# JigClu (Chen et al., CVPR 2021): clustering + location heads, fixed overlap 0.3. Its
# clustering labels only need to hold within one batch, so batches are drawn by shuffling.
# Table 4, row 1 of MEJigClu.
_base_ = [
    '../_base_/models/jigsaw_clustering_r50.py',
    '../_base_/datasets/imagenet_bs64_jigsaw.py',
    '../_base_/schedules/sgd_coslr_200e.py',
    '../_base_/default_runtime.py',
]

model = dict(heads=dict(loc=_base_.loc_head))
train_dataloader = dict(dataset=dict(pipeline=_base_.jigclu_pipeline))
# NHWC convolutions on a GPU (docs/speed.md)
custom_hooks = [dict(type='ChannelsLastHook')]
