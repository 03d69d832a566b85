# CIFAR-100 (mmpretrain's CIFAR100: data/cifar100/cifar-100-python) for JigClu / MEJigClu
# pretraining, as the CIFAR-10 base (supplementary 3.4).
_base_ = './cifar10_bs128_jigsaw.py'

dataset_type = 'CIFAR100'
data_root = 'data/cifar100/'
cifar_preprocessor = dict(mean=[129.304, 124.070, 112.434], std=[68.170, 65.392, 70.418])
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
knn_loader = dict(batch_size=256, num_workers=2, persistent_workers=False,
                  dataset=dict(type=dataset_type, download=False, pipeline=_base_.knn_pipeline))
custom_hooks = [
    dict(type='ChannelsLastHook'),
    dict(type='KNNMonitorHook', interval=10, k=(20, 200),
         bank_dataloader=dict(knn_loader, dataset=dict(knn_loader['dataset'], split='train',
                                                       indices=2000)),
         query_dataloader=dict(knn_loader, dataset=dict(knn_loader['dataset'], split='test',
                                                        test_mode=True, indices=1000))),
]
