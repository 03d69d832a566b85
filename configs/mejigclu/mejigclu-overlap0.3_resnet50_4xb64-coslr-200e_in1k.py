# Table 4, row 2: MEJigClu's losses (L_clu + L_cls) with JigClu's fixed overlap 0.3 (row 1 is
# JigClu, configs/jigclu/jigclu_resnet50_4xb64-coslr-200e_in1k.py; row 3 MEJigClu).
_base_ = './mejigclu_resnet50_4xb64-coslr-200e_in1k.py'

train_dataloader = dict(dataset=dict(pipeline=_base_.jigclu_pipeline))
