# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from .multi_backend_dekr_head import MultiBackendDEKRHead
from .samkr_head import SAMKRHead

__all__ = ['MultiBackendDEKRHead', 'SAMKRHead']
