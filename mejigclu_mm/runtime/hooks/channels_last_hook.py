"""Run the model's convolutions in channels-last (NHWC) memory format."""
from typing import Sequence

import torch
from mmengine.hooks import Hook
from mmengine.model import MMDistributedDataParallel, is_model_wrapper
from torch.nn.parallel import DistributedDataParallel

from mejigclu_mm.models.data_preprocessors import CHANNELS_LAST_DEVICES
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """Convert every 4-D parameter and buffer of the model to ``torch.channels_last``.

    A speed option. PyTorch runs
    a convolution in channels-last layout when its weight is channels-last, so converting the
    model once is enough. ``JigsawDataPreprocessor`` stitches its montages channels-last on the
    same device types (its ``channels_last_devices``, the same default).

    Whether NHWC pays depends on the device: on GPUs with tensor cores it does, on CPUs the same
    workload was faster on one machine and slower on another (docs/speed.md). So the hook
    converts only when the model runs on one of ``devices`` (default: CUDA GPUs) and says in the
    log what it did.

    The conversion happens in ``before_run``: after the optimizer is built (``Module.to`` swaps
    ``param.data`` and keeps the Parameter objects the optimizer holds) and before weights are
    initialised or a checkpoint is loaded (both copy into the converted tensors, which keeps
    their layout). A DDP wrapper is built again around the converted model
    (:func:`rewrap_ddp`). Checkpoints stay loadable by models in the default layout.

    Args:
        convert (bool): Switch for ``--cfg-options``; False leaves the model untouched.
            Defaults to True.
        devices (Sequence[str]): Device types on which to convert. Defaults to
            ``CHANNELS_LAST_DEVICES`` (CUDA GPUs).
    """

    # Before other hooks' before_run, e.g. an EMAHook that copies the model there: the copy then
    # has the converted layout too.
    priority = 'VERY_HIGH'

    def __init__(self, convert: bool = True, devices: Sequence[str] = CHANNELS_LAST_DEVICES):
        self.convert = convert
        self.devices = tuple(devices)

    def before_run(self, runner) -> None:
        if not self.convert:
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        device = next(model.parameters()).device.type
        if device not in self.devices:
            runner.logger.info(f'ChannelsLastHook: the model runs on {device}, not one of '
                               f'{self.devices}: layout left as it is')
            return
        runner.model.to(memory_format=torch.channels_last)
        if isinstance(runner.model, DistributedDataParallel):
            runner.model = rewrap_ddp(runner.model)
        converted = sum(1 for p in model.parameters()
                        if p.dim() == 4 and p.is_contiguous(memory_format=torch.channels_last))
        runner.logger.info(f'ChannelsLastHook: {converted} 4-D parameters in channels-last layout')


def rewrap_ddp(ddp: DistributedDataParallel) -> DistributedDataParallel:
    """A new DDP wrapper of ``ddp.module``, built with ``ddp``'s settings.

    DDP lays out its gradient buckets for the parameter strides it finds when it is built; the
    Runner wraps the model before any hook runs, so converting the parameters afterwards left
    the buckets in the old layout, and the averaged gradients came out wrong (measured: up to
    0.94 off, 2 gloo processes against 1). Building the wrapper again after the conversion
    gives the buckets the new layout; the old wrapper, no longer referenced, takes its gradient
    hooks with it. The optimizer is unaffected: ``Module.to`` keeps the Parameter objects.

    Args:
        ddp (DistributedDataParallel): torch's or mmengine's DDP wrapper of the converted model.

    Returns:
        DistributedDataParallel: The same class around the same module.
    """
    kwargs = dict(device_ids=ddp.device_ids, output_device=ddp.output_device, dim=ddp.dim,
                  broadcast_buffers=ddp.broadcast_buffers, process_group=ddp.process_group,
                  bucket_cap_mb=ddp.bucket_bytes_cap / (1024 * 1024),
                  find_unused_parameters=ddp.find_unused_parameters,
                  gradient_as_bucket_view=ddp.gradient_as_bucket_view,
                  static_graph=ddp.static_graph)
    if isinstance(ddp, MMDistributedDataParallel):
        kwargs['detect_anomalous_params'] = ddp.detect_anomalous_params
    return type(ddp)(module=ddp.module, **kwargs)
