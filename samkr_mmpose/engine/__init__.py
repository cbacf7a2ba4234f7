# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from .atomic_local_backend import AtomicLocalBackend
from .cpu_amp_optim_wrapper import CPUAmpOptimWrapper
from .cpu_distributed_data_parallel import CPUDistributedDataParallel
from .cpu_sync_batch_norm import CPUSyncBatchNorm
from .enable_runner_type import enable_runner_type
from .harden_runtime_config import (harden_model, harden_pipeline,
                                    harden_runtime_config)
from .hooks import (AtomicCheckpointHook, KeypointConsistencyHook,
                    NonFiniteLossHook)
from .resumable_epoch_based_train_loop import ResumableEpochBasedTrainLoop
from .samkr_hardened_runner import SAMKRHardenedRunner

__all__ = [
    'AtomicCheckpointHook', 'AtomicLocalBackend', 'CPUAmpOptimWrapper',
    'CPUDistributedDataParallel', 'CPUSyncBatchNorm',
    'KeypointConsistencyHook', 'NonFiniteLossHook',
    'ResumableEpochBasedTrainLoop', 'SAMKRHardenedRunner',
    'enable_runner_type', 'harden_model', 'harden_pipeline',
    'harden_runtime_config'
]
