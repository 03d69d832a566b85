# MEJigClu with the literal "shuffled batches" reading of L_cls: an image's class is its random
# position in the batch, which changes every time it is drawn, so no network can predict it
# (the best loss is ln N at uniform predictions). Kept to measure what the fixed subsets of
# DisjointSubsetBatchSampler (the default) bring.
_base_ = './mejigclu_resnet50_4xb64-coslr-200e_in1k.py'

train_dataloader = dict(batch_sampler=None, drop_last=True)
