from .decouple_neck import DecoupleNeck

__all__ = ['DecoupleNeck']
