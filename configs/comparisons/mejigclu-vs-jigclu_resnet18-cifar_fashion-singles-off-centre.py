# MEJigClu's Fig. 1 case: the demo's comparison, pretrained on small garments away from the
# image centre, where JigClu's fixed 0.3 overlap may cut the object and MEJigClu's random
# overlap is said to help (Fashion-MNIST's own garments fill their frames: the case where a fixed
# overlap works). The pretraining set: one training-split garment of 12-18 px per 48 px canvas,
# clear of the central square (`tools/data/prepare_fashion_scenes.py --singles`, data
# data/fashion_singles, `DEMO_OFF_CENTRE=1 make demo`); the split's patches are resized to the
# configs' 16 px as on Fashion-MNIST. The probes are the demo's (centred Fashion-MNIST test
# images, the test scenes): what transfers from off-centre pretraining.
_base_ = './mejigclu-vs-jigclu_resnet18-cifar_fashion-mnist.py'

pretrain_options = {'train_dataloader.dataset.data_root': 'data/fashion_singles/'}
