# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
# SAMKR 8_SAMKR_16 (k = 17 branches of c = 16 channels, g = 8 subspaces of
# s = 2) with HRNet-W32 at 512x512 and SWAHR's heatmap loss (Sec. III.A,
# IV.A). The paper is silent on the warm-up, batch size, rescore net and
# validation interval: those are MMPose's DEKR values, inherited.
_base_ = [
    'mmpose::body_2d_keypoint/dekr/coco/'
    'dekr_hrnet-w32_8xb10-140e_coco-512x512.py'
]
custom_imports = dict(imports=['samkr_mmpose'], allow_failed_imports=False)
# MMPose's PoseLocalVisualizer cannot draw keypoints on numpy 2
visualizer = dict(type='Numpy2PoseLocalVisualizer')

model = dict(
    # predicts batches of any image sizes (MMPose's DEKR takes one image)
    type='BatchedBottomupPoseEstimator',
    head=dict(
        type='SAMKRHead',
        num_channels_per_keypoint=16,
        num_subspaces=8,
        # SWAHR's weight adaptation replaces the codec's heatmap weights
        heatmap_loss=dict(_delete_=True, type='AdaptiveHeatmapLoss'),
        scale_loss=dict(type='HeatmapScaleLoss')),
    # DEKR's matching of the regressed keypoints to heatmap peaks
    # (Sec. II.C, III.A)
    test_cfg=dict(
        match_heatmap=True, max_absorb_distance=75, adjust_threshold=0.05))

train_pipeline = [
    dict(type='LoadImage'),
    # MMPose shifts by shift_factor x the image size, which is the input
    # size at scale 1: a translation of +-40 input pixels along the short
    # side (Sec. IV.A).
    # Official DEKR samples uniformly (MMPose: truncated normal).
    dict(
        type='BottomupRandomAffine',
        input_size=(512, 512),
        shift_factor=40 / 512,
        scale_factor=(0.75, 1.5),
        rotate_factor=30,
        distribution='uniform'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='GenerateTarget', encoder={{_base_.codec}}),
    dict(type='BottomupGetHeatmapMask'),
    dict(type='PackPoseInputs'),
]
# MMPose's loading and datasets, with clear errors for bad images and
# annotations instead of crashes or silently dropped people
val_pipeline = [dict(type='LoadAnyImage'), *_base_.val_pipeline[1:]]
train_dataloader = dict(
    dataset=dict(type='CheckedCocoDataset', pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(type='CheckedCocoDataset', pipeline=val_pipeline))
test_dataloader = val_dataloader

custom_hooks = [
    dict(type='SyncBuffersHook'),  # MMPose's, as lists replace
    dict(type='KeypointConsistencyHook'),
    dict(type='NonFiniteLossHook')
]

# checkpoints that survive a killed run, and an exact mid-epoch resume
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))
train_cfg = dict(
    _delete_=True,
    type='ResumableEpochBasedTrainLoop',
    max_epochs=140,
    val_interval=10)
