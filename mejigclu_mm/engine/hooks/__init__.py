from .channels_last_hook import ChannelsLastHook
from .dataloader_check_hook import DataloaderCheckHook

__all__ = ['ChannelsLastHook', 'DataloaderCheckHook']
