from .checkpoint_errors import (IncompleteCheckpointError, NonFiniteCheckpointError,
                                NotACheckpointError, UnsafeCheckpointError)
from .safe_checkpoint import TRUSTED_ENV, load_checkpoint_file, safe_checkpoint_loading
from .model_index import model_index_path, register_model_index
from .safe_checkpoint_hook import SafeCheckpointHook

__all__ = [
    'TRUSTED_ENV', 'IncompleteCheckpointError', 'NonFiniteCheckpointError',
    'NotACheckpointError', 'UnsafeCheckpointError', 'load_checkpoint_file',
    'safe_checkpoint_loading', 'SafeCheckpointHook', 'model_index_path', 'register_model_index'
]
