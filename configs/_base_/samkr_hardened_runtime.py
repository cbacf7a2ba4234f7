# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
# The opt-in hardened runtime of the SAMKR configs: list it after MMPose's
# DEKR config in `_base_`. Its runner (samkr_mmpose.engine) builds the
# config's stock types as their hardened subclasses:
# - BottomupPoseEstimator: BatchedBottomupPoseEstimator (batches of images
#   of any sizes, the flip test in one backbone pass);
# - the epoch-based loop: ResumableEpochBasedTrainLoop (exact mid-epoch
#   resume);
# - CheckpointHook: AtomicCheckpointHook (checkpoints that survive a kill);
# - CocoDataset, CrowdPoseDataset: CheckedCocoDataset,
#   CheckedCrowdPoseDataset (clear errors for bad annotation files);
# - LoadImage of validation and testing: LoadAnyImage (grayscale, BGRA and
#   16-bit image arrays);
# and appends KeypointConsistencyHook and NonFiniteLossHook to
# custom_hooks. Without this base the config runs on stock mmengine and
# MMPose components.
runner_type = 'SAMKRHardenedRunner'
