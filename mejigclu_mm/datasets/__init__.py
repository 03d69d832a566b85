from mejigclu_mm.datasets.image_folder import ImageFolderDataset  # noqa: F401
from mejigclu_mm.datasets.samplers import *  # noqa: F401,F403
from mejigclu_mm.datasets.transforms import *  # noqa: F401,F403
