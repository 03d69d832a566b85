from mejigclu_mm.models.losses.sup_clu_loss import SupCluLoss, sup_clu_loss

__all__ = ['SupCluLoss', 'sup_clu_loss']
