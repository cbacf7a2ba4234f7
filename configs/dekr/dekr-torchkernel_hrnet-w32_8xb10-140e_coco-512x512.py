# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
# MMPose's DEKR-W32 with its adaptive blocks on the deformable-convolution
# kernel SAMKR uses (the plugin's pure-PyTorch one): the same weights and
# checkpoints as MMPose's DEKRHead, for comparing the two heads on one
# kernel (docs/benchmarks.md, the paper's Table 6).
_base_ = [
    'mmpose::body_2d_keypoint/dekr/coco/'
    'dekr_hrnet-w32_8xb10-140e_coco-512x512.py'
]
custom_imports = dict(imports=['samkr_mmpose'], allow_failed_imports=False)
model = dict(head=dict(type='MultiBackendDEKRHead', deform_backend='torch'))
