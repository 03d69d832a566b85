"""The ways a checkpoint file can be refused; every message names the file."""
import pickle


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint whose unpickling would call something outside the allow-list."""


class IncompleteCheckpointError(EOFError):
    """A checkpoint file that is empty or cut off (an interrupted write, copy or download)."""


class NotACheckpointError(ValueError):
    """A file that is no checkpoint at all: a Git LFS pointer, a web page, an image, text."""


class NonFiniteCheckpointError(ValueError):
    """A checkpoint whose weights hold NaN or Inf values (the run that wrote it diverged)."""
