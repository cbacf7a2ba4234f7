# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
# Table 1, row 2 (c = 16, g = 1, s = 16): one subspace, so one attention
# map, per keypoint branch.
_base_ = ['./samkr_hrnet-w32_8xb10-140e_coco-512x512.py']

model = dict(head=dict(num_subspaces=1))
