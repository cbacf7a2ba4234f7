# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
# Table 1, row 1 (c = m = 272, g = 8, s = 34): one branch shared by all
# keypoints, its m = 17 x 16 = 272 channels split into g = 8 subspaces.
_base_ = ['./samkr_hrnet-w32_8xb10-140e_coco-512x512.py']

model = dict(head=dict(per_keypoint_branches=False))
