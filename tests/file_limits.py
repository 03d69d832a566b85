"""A full disk for one process: RLIMIT_FSIZE, for tests of what a failed write leaves behind."""
import contextlib
import resource


@contextlib.contextmanager
def file_size_limit(num_bytes):
    """No file of this process may grow beyond ``num_bytes`` inside the block.

    Python ignores SIGXFSZ, so a write past the limit raises OSError (EFBIG) instead of
    killing the process, as a full disk or quota would; the soft limit is put back afterwards.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (num_bytes, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def leftovers(folder):
    """The temporary files (``*.tmp``) left in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if p.name.endswith('.tmp'))
