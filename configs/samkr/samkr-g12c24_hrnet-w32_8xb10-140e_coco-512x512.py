# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
# Table 2, 12_SAMKR_24 (g = 12, c = 24, s = 2). The table prints g = 8,
# an erratum: the name, the text (Sec. IV.B, "fix ... s = 2") and
# c = g x s all give g = 12.
_base_ = ['./samkr_hrnet-w32_8xb10-140e_coco-512x512.py']

model = dict(head=dict(num_channels_per_keypoint=24, num_subspaces=12))
