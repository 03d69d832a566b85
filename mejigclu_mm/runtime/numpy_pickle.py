"""Read a plain Python pickle of numpy arrays (detectron2's weight files) without running code.

detectron2 keeps weights as ``{'model': {name: numpy array}, ...}`` pickled by Python, not
torch (ours: ``tools/convert_weights.py --to detectron2``; MoCo's converted R-50; the model
zoo's detectors, some pickled by Python 2). :func:`load_numpy_pickle` unpickles such a file
with an allow-list of globals, as the Python documentation's "restricting globals" recipe does:
numpy's array, dtype and scalar constructors (``_frombuffer`` for protocol 5) and ``bytes``,
which can only build a value from a shape, a dtype and raw bytes (the argument of
:mod:`mejigclu_mm.runtime.safe_checkpoint`), ``OrderedDict`` and ``_codecs.encode`` (how protocol
2 writes bytes; torch's safe unpickler allows it too). Any other global is refused the moment
the file names it, before anything is called.
"""
import os
import pickle
from typing import Union

import numpy as np

from mejigclu_mm.runtime.checkpoint_errors import IncompleteCheckpointError, UnsafeCheckpointError

ALLOWED_GLOBALS = {
    ('numpy', 'ndarray'), ('numpy', 'dtype'),
    ('numpy.core.multiarray', '_reconstruct'), ('numpy._core.multiarray', '_reconstruct'),
    ('numpy.core.multiarray', 'scalar'), ('numpy._core.multiarray', 'scalar'),
    ('collections', 'OrderedDict'), ('_codecs', 'encode'),
    ('builtins', 'bytes'), ('__builtin__', 'bytes'),  # protocol 2 writes b'' as bytes()
    # protocol 5: an array from its raw bytes, dtype, shape and order
    ('numpy.core.numeric', '_frombuffer'), ('numpy._core.numeric', '_frombuffer'),
}


class _NumpyUnpickler(pickle.Unpickler):
    """An unpickler that builds only plain values and numpy arrays."""

    def __init__(self, file, path: str):
        super().__init__(file, encoding='latin1')  # Python 2 pickles, as detectron2 reads them
        self.path = path

    def find_class(self, module: str, name: str):
        if (module, name) in ALLOWED_GLOBALS:
            return super().find_class(module, name)
        if module == 'numpy.dtypes' and name.endswith('DType'):
            found = super().find_class(module, name)  # a dtype class: only state is set on it
            if isinstance(found, type) and issubclass(found, np.dtype):
                return found
        raise UnsafeCheckpointError(
            f'refused to load {self.path}: it is a Python pickle (not a PyTorch checkpoint) '
            f'whose unpickling would call {module}.{name}, which could run code from the file. '
            f'Only pickles of numpy arrays and plain values (e.g. detectron2 weights) are read')

    def persistent_load(self, pid):
        raise UnsafeCheckpointError(f'refused to load {self.path}: it is a Python pickle with '
                                    f'persistent references ({pid!r}), not a file of weights')


def load_numpy_pickle(path: str) -> Union[dict, object]:
    """Unpickle ``path`` allowing only plain values and numpy arrays.

    Args:
        path (str): A pickle file, e.g. detectron2 weights (``.pkl``).

    Returns:
        The unpickled object.

    Raises:
        UnsafeCheckpointError: the pickle names a global outside the allow-list; nothing of it
            has run.
        IncompleteCheckpointError: the file ends before its pickle does.
    """
    try:
        with open(path, 'rb') as file:
            return _NumpyUnpickler(file, path).load()
    except UnsafeCheckpointError:
        raise
    except (EOFError, pickle.UnpicklingError, ValueError) as error:
        if isinstance(error, EOFError) or 'truncated' in str(error) or 'ran out' in str(error):
            raise IncompleteCheckpointError(
                f'checkpoint {path} is incomplete: its data ends early '
                f'({os.path.getsize(path)} bytes). It was probably cut off while being written, '
                f'copied or downloaded; write or copy it again') from None
        raise pickle.UnpicklingError(f'{path} is no readable pickle of weights: {error}') from None
