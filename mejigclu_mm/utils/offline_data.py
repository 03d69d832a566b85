"""Where the real offline data of requirements/offline-data.txt lies once set up."""
import sys
from pathlib import Path


def offline_data_dir(package: str) -> Path:
    """The ``data/`` folder extracted from ``package``'s wheel by tools/setup_env.sh.

    Args:
        package (str): A package named in requirements/offline-data.txt, e.g. ``'foolbox'``.

    Returns:
        Path: ``<venv>/share/offline-data/<package>/data``.

    Raises:
        FileNotFoundError: the data was not extracted (run ``make test`` or ``make demo``).
    """
    path = Path(sys.prefix, 'share', 'offline-data', package, 'data')
    if not path.is_dir():
        raise FileNotFoundError(f'{path} is missing: the offline data of {package} is extracted '
                                'by tools/setup_env.sh (run `make test` or `make demo`)')
    return path
