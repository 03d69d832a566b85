# What the pretraining dataset bases share (each inherits this file and names its data, batch,
# workers and pipelines): shuffled batches, a full global batch every step (MEJigClu: one class
# per image), an image's patches packed with its index and path, and the online kNN monitor
# (weighted kNN, k = 20 and 200, on 2000 training / 1000 test images every 10 epochs and after
# the last: logs knn/top1_k* for tools/plot_curves.py). A dataset base gives the monitor its
# test_pipeline; a config runs it with custom_hooks = [..., _base_.knn_monitor]. The monitor's
# datasets take the training set's type and data_root, so a config that moves the training set
# moves the monitor with it.
pack = dict(type='PackInputs', meta_keys=('sample_idx', 'img_path'))
train_dataloader = dict(
    drop_last=True,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'))

knn_loader = dict(batch_size=256, num_workers=2, persistent_workers=False)
knn_monitor = dict(
    type='KNNMonitorHook', interval=10, k=(20, 200),
    bank_dataloader=dict(knn_loader, dataset=dict(split='train', indices=2000)),
    query_dataloader=dict(knn_loader, dataset=dict(split='test', test_mode=True, indices=1000)))
