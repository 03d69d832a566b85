"""Supervised clustering loss of JigClu (supervised-contrastive, "all" mode)."""
import torch
from torch import nn

from mmpretrain.registry import MODELS


def sup_clu_loss(features: torch.Tensor, labels: torch.Tensor, temperature: float = 0.3,
                 base_temperature: float = 0.07) -> torch.Tensor:
    """Supervised clustering loss, MEJigClu paper Eq. 2-3 (JigClu's SupCluLoss).

    For each anchor i, -log softmax over all other samples k != i of cos(z_i, z_k) / T is
    averaged over its positives (the other samples with the same label); the result is averaged
    over anchors and scaled by T / base_T as in the reference implementation. Anchors without a
    positive are left out of the average.

    Args:
        features (Tensor): M x D, L2-normalised rows.
        labels (Tensor): M integer cluster labels.
        temperature (float): T. Defaults to 0.3.
        base_temperature (float): base_T of the T / base_T factor. Defaults to 0.07.

    Returns:
        Tensor: scalar loss.
    """
    if features.dim() != 2 or labels.shape != features.shape[:1]:
        raise ValueError(f'sup_clu_loss expects features M x D and labels M, got '
                         f'{tuple(features.shape)} and {tuple(labels.shape)}')
    logits = features @ features.t() / temperature
    logits = logits - logits.max(dim=1, keepdim=True).values.detach()
    not_self = ~torch.eye(len(labels), dtype=torch.bool, device=features.device)
    positives = (labels[:, None] == labels[None, :]) & not_self
    log_denominator = torch.logsumexp(logits.masked_fill(~not_self, float('-inf')), dim=1)
    log_prob = logits - log_denominator[:, None]
    num_positives = positives.sum(1)
    has_positive = num_positives > 0
    if not has_positive.any():
        raise ValueError('sup_clu_loss: no sample shares its label with another one')
    mean_log_prob_pos = (log_prob * positives).sum(1)[has_positive] / num_positives[has_positive]
    return -(temperature / base_temperature) * mean_log_prob_pos.mean()


@MODELS.register_module()
class SupCluLoss(nn.Module):
    """Supervised clustering loss from `Jigsaw Clustering
    <https://arxiv.org/abs/2104.00323>`_, Eq. 2-3 of MEJigClu; see :func:`sup_clu_loss`.

    Example:
        >>> loss = SupCluLoss(temperature=0.3)
        >>> z = F.normalize(torch.randn(8, 128), dim=1)
        >>> loss(z, torch.tensor([0, 0, 1, 1, 2, 2, 3, 3]))

    Args:
        temperature (float): T. Defaults to 0.3.
        base_temperature (float): base_T of the T / base_T factor; set it equal to
            ``temperature`` for the plain Eq. 3. Defaults to 0.07.
    """

    def __init__(self, temperature: float = 0.3, base_temperature: float = 0.07):
        super().__init__()
        self.temperature = temperature
        self.base_temperature = base_temperature

    def forward(self, features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Loss of L2-normalised ``features`` (M x D) with integer ``labels`` (M)."""
        return sup_clu_loss(features, labels, self.temperature, self.base_temperature)
