# JigClu on CIFAR-100, the JigClu supplementary's CIFAR recipe (3.4): the CIFAR-10
# config with mmpretrain's CIFAR100 (the python-pickle files in data/cifar100/cifar-100-python)
# and its mean / std (0-255 scale); the kNN monitor follows the training set.
_base_ = './jigclu_resnet18-cifar_1xb128-coslr-100e_cifar10.py'

model = dict(data_preprocessor=dict(mean=[129.304, 124.070, 112.434], std=[68.170, 65.392, 70.418]))
train_dataloader = dict(dataset=dict(type='CIFAR100', data_root='data/cifar100/'))
