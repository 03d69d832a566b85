# Table 4, row 2, at the demo's size: L_clu + L_cls with JigClu's fixed overlap 0.3 (the
# Fashion-MNIST MEJigClu config otherwise; row 1 is the JigClu config, row 3 the MEJigClu one).
_base_ = '../mejigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py'

train_dataloader = dict(dataset=dict(
    pipeline=[*_base_.train_pipeline[:-2], dict(_base_.split, overlap=0.3), _base_.pack]))
