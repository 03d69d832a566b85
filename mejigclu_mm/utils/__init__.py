"""The model index (``mim`` / ``mmpretrain.list_models``) and the offline data's location."""
from mejigclu_mm.utils.model_index import model_index_path, register_model_index

__all__ = ['model_index_path', 'register_model_index']
