# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
import math
from typing import Optional

import torch
from mmengine.hooks import Hook
from mmengine.hooks.hook import DATA_BATCH

from mmpose.registry import HOOKS


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Stop training at the first iteration whose loss is NaN or infinite.

    mmengine trains on after a non-finite loss: its optimiser step writes
    NaN into the weights, and every later loss, checkpoint and evaluation
    is NaN. This hook raises a ``FloatingPointError`` instead, naming the
    iteration (1-based, as logged), the epoch and batch, the non-finite
    loss terms and the images of the batch. It runs before the logger,
    scheduler and checkpoint hooks of the iteration, so no checkpoint of
    the broken weights is saved.
    """

    priority = 'ABOVE_NORMAL'

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: DATA_BATCH = None,
                         outputs: Optional[dict] = None) -> None:
        """Raise if a loss term of the iteration is not finite.

        Args:
            runner (Runner): The runner of the training process.
            batch_idx (int): The index of the batch in the epoch.
            data_batch (dict, optional): The batch from the dataloader.
            outputs (dict, optional): The logged losses of the iteration.
        """
        losses = {
            key: float(torch.as_tensor(value).detach())
            for key, value in (outputs or {}).items() if 'loss' in key
        }
        bad = {key: v for key, v in losses.items() if not math.isfinite(v)}
        if not bad:
            return
        terms = ', '.join(f'{key}={value}' for key, value in bad.items())
        message = (f'non-finite loss at iteration {runner.iter + 1} (epoch '
                   f'{runner.epoch + 1}, batch {batch_idx + 1}): {terms}')
        samples = []
        if isinstance(data_batch, dict):
            samples = data_batch.get('data_samples', None) or []
        paths = [
            getattr(s, 'metainfo', {}).get('img_path', None) for s in samples
        ]
        if any(paths):
            message += f'; images of the batch: {paths}'
        raise FloatingPointError(
            message + '. Training is stopped: check the data of this batch '
            'or lower the learning rate, then resume from the last '
            'checkpoint')
