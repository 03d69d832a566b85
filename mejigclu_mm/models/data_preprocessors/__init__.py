from .jigsaw_data_preprocessor import JigsawDataPreprocessor

__all__ = ['JigsawDataPreprocessor']
