from .channels_last_hook import ChannelsLastHook
from .dataloader_check_hook import DataloaderCheckHook
from .knn_monitor_hook import KNNMonitorHook

__all__ = ['ChannelsLastHook', 'DataloaderCheckHook', 'KNNMonitorHook']
from .random_state_hook import RandomStateHook  # noqa: E402,F401
from .atomic_checkpoint_hook import AtomicCheckpointHook  # noqa: E402,F401
from .non_finite_loss_hook import NonFiniteLossError, NonFiniteLossHook  # noqa: E402,F401
