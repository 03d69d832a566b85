"""All-gather helpers for computing a loss over the global batch under DDP."""
from typing import Any

import torch
import torch.distributed as torch_dist
from mmengine.dist import all_gather, get_rank, get_world_size


class _AllGatherSumGrad(torch.autograd.Function):
    """Concatenate a tensor from all ranks; backward sums the gradients over ranks.

    Every rank computes the same global loss from the gathered tensor, so the gradient of the
    global loss with respect to this rank's slice is the sum of the slice gradients computed on
    all ranks. DDP then averages parameter gradients over ranks, which gives exactly the gradient
    of the global loss. (mmpretrain's ``GatherLayer`` keeps only the local gradient, which is
    1/world_size too small for this use.)
    """

    @staticmethod
    def forward(ctx: Any, tensor: torch.Tensor) -> torch.Tensor:
        ctx.local_size = tensor.size(0)
        ctx.rank = get_rank()
        return torch.cat(all_gather(tensor.contiguous()), dim=0)

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> torch.Tensor:
        grad = grad_output.contiguous()
        torch_dist.all_reduce(grad, op=torch_dist.ReduceOp.SUM)
        start = ctx.rank * ctx.local_size
        return grad[start:start + ctx.local_size]


def gather_with_grad(tensor: torch.Tensor) -> torch.Tensor:
    """Concatenate ``tensor`` (equal first dimension on each rank) over ranks, in rank order.

    Differentiable: the backward pass sums the gradients over ranks (see ``_AllGatherSumGrad``).
    Outside a distributed run it returns ``tensor`` itself.

    Args:
        tensor (Tensor): This rank's rows, shape (n, ...); n must be equal on all ranks.

    Returns:
        Tensor: shape (world_size * n, ...), rank r's rows at [r * n, (r + 1) * n).
    """
    if get_world_size() == 1:
        return tensor
    return _AllGatherSumGrad.apply(tensor)


def gather_without_grad(tensor: torch.Tensor) -> torch.Tensor:
    """Concatenate ``tensor`` over ranks in rank order, outside autograd (labels, data)."""
    if get_world_size() == 1:
        return tensor
    return torch.cat(all_gather(tensor.contiguous()), dim=0)
