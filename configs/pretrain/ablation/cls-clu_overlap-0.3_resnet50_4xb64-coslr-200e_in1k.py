# Table 4, row 2: L_clu + L_cls, fixed overlap 0.3.
_base_ = '../mejigclu_resnet50_4xb64-coslr-200e_in1k.py'

train_dataloader = dict(dataset=dict(
    pipeline=[*_base_.train_pipeline[:-2], dict(_base_.split, overlap=0.3), _base_.pack]))
