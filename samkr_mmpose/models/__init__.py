# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from .heads import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
