# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
__version__ = '0.1.0'
