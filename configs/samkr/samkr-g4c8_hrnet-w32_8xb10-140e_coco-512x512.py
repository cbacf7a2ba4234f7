# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
# Table 2, 4_SAMKR_8 (g = 4, c = 8, s = 2).
_base_ = ['./samkr_hrnet-w32_8xb10-140e_coco-512x512.py']

model = dict(head=dict(num_channels_per_keypoint=8, num_subspaces=4))
