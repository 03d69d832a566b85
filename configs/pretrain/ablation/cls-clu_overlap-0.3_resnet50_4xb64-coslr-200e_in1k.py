# Table 4, row 2: L_clu + L_cls, fixed overlap 0.3.
_base_ = '../mejigclu_resnet50_4xb64-coslr-200e_in1k.py'

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='JigsawSplit', grid=2, overlap=0.3, patch_pipeline=_base_.patch_pipeline),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
