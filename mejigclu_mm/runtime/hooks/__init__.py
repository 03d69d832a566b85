from mejigclu_mm.runtime.hooks.channels_last_hook import ChannelsLastHook
from mejigclu_mm.runtime.hooks.dataloader_check_hook import DataloaderCheckHook
from mejigclu_mm.runtime.hooks.detection_data_check_hook import DetectionDataCheckHook
from mejigclu_mm.runtime.hooks.non_finite_loss_hook import NonFiniteLossError, NonFiniteLossHook
from mejigclu_mm.runtime.hooks.random_state_hook import RandomStateHook
from mejigclu_mm.runtime.hooks.safe_checkpoint_hook import SafeCheckpointHook
from mejigclu_mm.runtime.hooks.segmentation_data_check_hook import SegmentationDataCheckHook
from mejigclu_mm.runtime.hooks.transfer_data import TransferDataError
from mejigclu_mm.runtime.mmengine_internals import AtomicCheckpointHook

__all__ = [
    'AtomicCheckpointHook', 'ChannelsLastHook', 'DataloaderCheckHook', 'DetectionDataCheckHook',
    'NonFiniteLossError', 'NonFiniteLossHook', 'RandomStateHook', 'SafeCheckpointHook',
    'SegmentationDataCheckHook', 'TransferDataError'
]
