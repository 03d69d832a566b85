# Linear evaluation on CIFAR-100: the CIFAR-10 config (supplementary 3.4) on mmpretrain's
# CIFAR100 dataset (data/cifar100/cifar-100-python), its mean / std (0-255 scale), 100 classes.
_base_ = './resnet18-cifar_1xb128-linear-lr10-steplr-100e_cifar10.py'

cifar100_dataset = dict(type='CIFAR100', data_root='data/cifar100/')
data_preprocessor = dict(num_classes=100, mean=[129.304, 124.070, 112.434],
                         std=[68.170, 65.392, 70.418])
model = dict(data_preprocessor=data_preprocessor, head=dict(num_classes=100))
train_dataloader = dict(dataset=cifar100_dataset)
val_dataloader = dict(dataset=cifar100_dataset)
test_dataloader = val_dataloader
