from .samplers import *  # noqa: F401,F403
from .transforms import *  # noqa: F401,F403
from .image_folder import ImageFolderDataset  # noqa: F401
