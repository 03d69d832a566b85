"""Numeric precision and memory layout of a timed training step."""
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Optional

import torch
from mmengine.optim import OptimWrapper

PRECISIONS = ('fp32', 'bf16', 'bf16-channels-last')


@dataclass(frozen=True)
class Precision:
    """How a step runs.

    Args:
        name (str): One of :data:`PRECISIONS`.
    """
    name: str

    def __post_init__(self):
        if self.name not in PRECISIONS:
            raise ValueError(f'precision must be one of {PRECISIONS}, got {self.name!r}')

    @property
    def autocast_dtype(self) -> Optional[torch.dtype]:
        return None if self.name == 'fp32' else torch.bfloat16

    @property
    def channels_last(self) -> bool:
        return self.name.endswith('channels-last')

    @property
    def label(self) -> str:
        return {'fp32': 'fp32 NCHW', 'bf16': 'bf16 NCHW (autocast)',
                'bf16-channels-last': 'bf16 channels-last (autocast)'}[self.name]

    def prepare(self, model: torch.nn.Module) -> torch.nn.Module:
        """Convert the model's 4-D weights to channels-last where asked (ChannelsLastHook's
        conversion)."""
        return model.to(memory_format=torch.channels_last) if self.channels_last else model


class AutocastOptimWrapper(OptimWrapper):
    """mmengine's ``OptimWrapper`` whose ``optim_context`` also enters ``torch.autocast``.

    What ``AmpOptimWrapper(dtype='bfloat16')`` does for a model's forward, on any device
    (mmengine's AMP wrapper refuses CPU-only machines); bf16 needs no loss scaling.

    Args:
        optimizer (torch.optim.Optimizer): The optimizer.
        device_type (str): ``'cpu'`` or ``'cuda'``.
        dtype (torch.dtype, optional): Autocast dtype; None runs in fp32.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, device_type: str,
                 dtype: Optional[torch.dtype] = None):
        super().__init__(optimizer)
        self.device_type, self.dtype = device_type, dtype

    @contextmanager
    def optim_context(self, model: torch.nn.Module) -> Iterator[None]:
        with super().optim_context(model), torch.autocast(
                self.device_type, dtype=self.dtype or torch.float32,
                enabled=self.dtype is not None):
            yield
