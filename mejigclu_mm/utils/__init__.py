from .safe_checkpoint import (TRUSTED_ENV, IncompleteCheckpointError, UnsafeCheckpointError,
                              install_safe_checkpoint_loading, load_checkpoint_file)

__all__ = [
    'TRUSTED_ENV', 'IncompleteCheckpointError', 'UnsafeCheckpointError',
    'install_safe_checkpoint_loading', 'load_checkpoint_file'
]
