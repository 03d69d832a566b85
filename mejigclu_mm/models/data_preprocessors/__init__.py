from mejigclu_mm.models.data_preprocessors.jigsaw_data_preprocessor import (CHANNELS_LAST_DEVICES,
                                                                            JigsawDataPreprocessor)

__all__ = ['CHANNELS_LAST_DEVICES', 'JigsawDataPreprocessor']
