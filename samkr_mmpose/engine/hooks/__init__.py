# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from .atomic_checkpoint_hook import AtomicCheckpointHook
from .keypoint_consistency_hook import KeypointConsistencyHook
from .non_finite_loss_hook import NonFiniteLossHook

__all__ = [
    'AtomicCheckpointHook', 'KeypointConsistencyHook', 'NonFiniteLossHook'
]
