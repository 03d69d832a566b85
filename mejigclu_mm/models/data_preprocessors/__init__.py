from mejigclu_mm.models.data_preprocessors.jigsaw_data_preprocessor import JigsawDataPreprocessor

__all__ = ['JigsawDataPreprocessor']
