# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
# Table 2, 2_SAMKR_16 (g = 2, c = 16, s = 8).
_base_ = ['./samkr_hrnet-w32_8xb10-140e_coco-512x512.py']

model = dict(head=dict(num_subspaces=2))
