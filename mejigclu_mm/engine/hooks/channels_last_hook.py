"""Run the model's convolutions in channels-last (NHWC) memory format."""
import torch
from mmengine.hooks import Hook

from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """Convert every 4-D parameter and buffer of the model to ``torch.channels_last``.

    Not part of the method (MEJigClu / JigClu change nothing here): a speed option. PyTorch runs
    a convolution in channels-last layout when its weight is channels-last, so converting the
    model once is enough; inputs keep their layout. Measured on 2 CPU cores with ResNet_CIFAR-18,
    side by side (``tools/benchmark_channels_last.py --steps 6``): the frozen-backbone forward of
    linear evaluation (256 images, 32 px) 1.2-1.3x faster, pretraining forward + backward (64
    montages, 32 px) only 1.03-1.05x, the detection backbone at 200 px 0.8x (slower). So it is
    switched on per config: in the Fashion-MNIST linear config. On GPUs with AMP channels-last
    is the layout tensor cores prefer; measure with the same script (``--device cuda``).

    The conversion happens in ``before_run``: after the optimizer is built (``Module.to`` swaps
    ``param.data`` and keeps the Parameter objects the optimizer holds) and before weights are
    initialised or a checkpoint is loaded (both copy into the converted tensors, which keeps
    their layout). Checkpoints stay loadable by models in the default layout.

    Args:
        convert (bool): Switch for ``--cfg-options``; False leaves the model untouched.
            Defaults to True.
    """

    # Before other hooks' before_run, e.g. an EMAHook that copies the model there: the copy then
    # has the converted layout too.
    priority = 'VERY_HIGH'

    def __init__(self, convert: bool = True):
        self.convert = convert

    def before_run(self, runner) -> None:
        if not self.convert:
            return
        runner.model.to(memory_format=torch.channels_last)
        converted = sum(1 for p in runner.model.parameters()
                        if p.dim() == 4 and p.is_contiguous(memory_format=torch.channels_last))
        runner.logger.info(f'ChannelsLastHook: {converted} 4-D parameters in channels-last layout')
