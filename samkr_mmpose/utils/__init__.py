# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from .complexity import DEFORM_CONV_FLOP_HANDLES, model_complexity

__all__ = ['DEFORM_CONV_FLOP_HANDLES', 'model_complexity']
