# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
# SAMKR 8_SAMKR_16 (k = 14 branches of c = 16 channels, g = 8 subspaces of
# s = 2) on CrowdPose with HRNet-W32 at 512x512 and SWAHR's heatmap loss.
# CrowdPose is trained as COCO (Sec. IV.D): 140 epochs with the learning
# rate dropped at 90 and 120, not MMPose's 300. The paper is silent on the
# warm-up, batch size, rescore net and validation interval: those are
# MMPose's DEKR CrowdPose values, inherited.
_base_ = [
    'mmpose::body_2d_keypoint/dekr/crowdpose/'
    'dekr_hrnet-w32_8xb10-300e_crowdpose-512x512.py',
    '../_base_/samkr_hardened_runtime.py',  # opt-in: remove for stock parts
]
custom_imports = dict(imports=['samkr_mmpose'], allow_failed_imports=False)

train_cfg = dict(max_epochs=140)
# a list replaces the base one: the warm-up is MMPose's
param_scheduler = [
    dict(
        type='LinearLR', begin=0, end=500, start_factor=0.001, by_epoch=False),
    dict(
        type='MultiStepLR',
        begin=0,
        end=140,
        milestones=[90, 120],
        gamma=0.1,
        by_epoch=True)
]

model = dict(
    head=dict(
        type='SAMKRHead',
        num_channels_per_keypoint=16,
        num_subspaces=8,
        # SWAHR's weight adaptation replaces the codec's heatmap weights;
        # averaged over the K+1 channels (centre included) as DEKR does,
        # channel_mean='keypoints' gives SWAHR's own averaging over K
        heatmap_loss=dict(_delete_=True, type='AdaptiveHeatmapLoss'),
        scale_loss=dict(type='HeatmapScaleLoss')),
    # DEKR's matching of the regressed keypoints to heatmap peaks
    # (Sec. II.C, III.A)
    test_cfg=dict(
        match_heatmap=True, max_absorb_distance=75, adjust_threshold=0.05))

# DEKR's training pipeline with the paper's affine augmentation.
train_pipeline = [
    *_base_.train_pipeline[:1],
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
    *_base_.train_pipeline[2:],
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
