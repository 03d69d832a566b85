# Linear evaluation on CIFAR-100: the CIFAR-10 config (supplementary 3.4) on mmpretrain's
# CIFAR100 dataset (data/cifar100/cifar-100-python), its mean / std, 100 classes.
_base_ = ['./resnet18-cifar_1xb128-linear-lr10-steplr-100e_cifar10.py',
          '../_base_/datasets/cifar100.py']

data_preprocessor = dict(_base_.cifar100_normalisation, num_classes=100)
model = dict(data_preprocessor=data_preprocessor, head=dict(num_classes=100))
train_dataloader = dict(dataset=_base_.cifar100_dataset)
val_dataloader = dict(dataset=_base_.cifar100_dataset)
test_dataloader = val_dataloader
