"""What our command-line tools do first: keep their output to what the user needs to read."""
import warnings

# (message start, category, why it is known and harmless)
KNOWN_WARNINGS = (
    ('pkg_resources is deprecated as an API', UserWarning,
     'mmengine 0.10.7 imports pkg_resources (setuptools < 82) to find the config folders of '
     'mmpretrain:: / mmdet:: / mmseg:: bases: one deprecation warning per import, nothing to do '
     'for a user'),
    ('The given NumPy array is not writable', UserWarning,
     "mmpretrain's MNIST / Fashion-MNIST readers wrap read-only arrays; the tensors are never "
     'written'),
)


def quiet_known_warnings() -> None:
    """Silence :data:`KNOWN_WARNINGS` in this process (and the workers it forks), nothing else.

    Called by the tools in tools/ before they work; importing ``mejigclu_mm`` does not call it,
    so other code's warnings are left as they are.
    """
    for message, category, _ in KNOWN_WARNINGS:
        warnings.filterwarnings('ignore', message=message, category=category)
