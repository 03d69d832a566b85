# CIFAR-100 (mmpretrain's CIFAR100: the python-pickle files in data/cifar100/cifar-100-python):
# the CIFAR-10 pretraining data with CIFAR-100's images and their mean / std (0-255 scale).
_base_ = './cifar10_bs128_jigsaw.py'

dataset_type = 'CIFAR100'
data_root = 'data/cifar100/'
cifar_preprocessor = dict(mean=[129.304, 124.070, 112.434], std=[68.170, 65.392, 70.418])
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
