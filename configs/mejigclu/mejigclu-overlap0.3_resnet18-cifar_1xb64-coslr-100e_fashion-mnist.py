# Table 4, row 2, at the demo's size: MEJigClu's losses (L_clu + L_cls) with JigClu's fixed
# overlap 0.3 (row 1 is JigClu, row 3 MEJigClu).
_base_ = './mejigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py'

train_dataloader = dict(dataset=dict(pipeline=_base_.jigclu_pipeline))
