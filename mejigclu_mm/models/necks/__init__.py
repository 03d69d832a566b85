from mejigclu_mm.models.necks.decouple_neck import DecoupleNeck

__all__ = ['DecoupleNeck']
