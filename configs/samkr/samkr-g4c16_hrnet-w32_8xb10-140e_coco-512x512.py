# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
# Table 2, 4_SAMKR_16 (g = 4, c = 16, s = 4).
_base_ = ['./samkr_hrnet-w32_8xb10-140e_coco-512x512.py']

model = dict(head=dict(num_subspaces=4))
