# Fine-tuning on CIFAR-10, the JigClu supplementary's CIFAR recipe (3.4): the linear-evaluation
# config with the whole network trained (no frozen stages, BN statistics updated), SGD lr 0.1,
# momentum 0.9, weight decay 5e-4, 100 epochs, x0.2 at 40 / 60 / 80.
_base_ = './resnet18-cifar_1xb128-linear-lr10-steplr-100e_cifar10.py'

model = dict(backbone=dict(frozen_stages=-1, norm_eval=False))
optim_wrapper = dict(optimizer=dict(lr=0.1, weight_decay=5e-4))
