# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
# Table 1, row 3 (c = 16, g = 16, s = 1): one attention map per channel.
_base_ = ['./samkr_hrnet-w32_8xb10-140e_coco-512x512.py']

model = dict(head=dict(num_subspaces=16))
