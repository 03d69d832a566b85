# CIFAR-100 (mmpretrain's CIFAR100: the python-pickle files in data/cifar100/cifar-100-python):
# what the CIFAR-100 configs change in their CIFAR-10 counterparts. Mean / std of the training
# images (0-255 scale); 100 classes.
cifar100_dataset = dict(type='CIFAR100', data_root='data/cifar100/')
cifar100_normalisation = dict(mean=[129.304, 124.070, 112.434], std=[68.170, 65.392, 70.418])
