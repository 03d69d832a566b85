# JigClu on CIFAR-100, the JigClu supplementary's CIFAR recipe (3.4): the CIFAR-10 config on
# mmpretrain's CIFAR100 dataset with its mean / std (the kNN monitor follows the training set).
_base_ = ['./jigclu_resnet18-cifar_1xb128-coslr-100e_cifar10.py',
          '../_base_/datasets/cifar100.py']

model = dict(data_preprocessor=_base_.cifar100_normalisation)
train_dataloader = dict(dataset=_base_.cifar100_dataset)
