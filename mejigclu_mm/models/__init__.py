from mejigclu_mm.models.algorithms import *  # noqa: F401,F403
from mejigclu_mm.models.data_preprocessors import *  # noqa: F401,F403
from mejigclu_mm.models.heads import *  # noqa: F401,F403
from mejigclu_mm.models.losses import *  # noqa: F401,F403
from mejigclu_mm.models.necks import *  # noqa: F401,F403
