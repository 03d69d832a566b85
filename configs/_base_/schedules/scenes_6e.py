# The loops of the scene transfers (the fashion-scenes detection and segmentation configs):
# 6 epochs, one validation after the last; tools/test.py runs the test split. A config sets its
# optimizer and lr schedule over _base_.max_epochs.
max_epochs = 6
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
