# The Fashion-MNIST MEJigClu config with shuffled batches instead of fixed subsets (see
# mejigclu-shuffled_resnet50_4xb64-coslr-200e_in1k.py): L_cls has nothing to learn and stays at
# ln 64.
_base_ = './mejigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py'

train_dataloader = dict(batch_sampler=None, drop_last=True)
