# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from .numpy2_pose_local_visualizer import Numpy2PoseLocalVisualizer

__all__ = ['Numpy2PoseLocalVisualizer']
