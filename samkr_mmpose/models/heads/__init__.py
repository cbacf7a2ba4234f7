# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from .samkr_head import SAMKRHead

__all__ = ['SAMKRHead']
