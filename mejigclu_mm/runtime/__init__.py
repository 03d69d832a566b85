"""The guards of an mmengine run, none of them part of the method: the Runner every config
names (``GuardedRunner``), safe checkpoint loading, atomic writes, checkpoints and outputs,
exact resume, the work-dir lock and run record, the stop at a non-finite loss, the data checks
before the first step, CPU process groups, the known-warnings filter."""
from mejigclu_mm.runtime.checkpoint_errors import (IncompleteCheckpointError,
                                                   NonFiniteCheckpointError, NotACheckpointError,
                                                   UnsafeCheckpointError)
from mejigclu_mm.runtime.hooks import *  # noqa: F401,F403  (registers the hooks)
from mejigclu_mm.runtime.mmengine_internals import GuardedRunner
from mejigclu_mm.runtime.safe_checkpoint import (TRUSTED_ENV, load_checkpoint_file,
                                                 safe_checkpoint_loading)

__all__ = [
    'GuardedRunner', 'IncompleteCheckpointError', 'NonFiniteCheckpointError', 'NotACheckpointError',
    'UnsafeCheckpointError', 'TRUSTED_ENV', 'load_checkpoint_file', 'safe_checkpoint_loading'
]
