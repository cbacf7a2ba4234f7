# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
import random
from typing import Sequence

import numpy as np
import torch
from mmengine.runner import EpochBasedTrainLoop

from mmpose.registry import LOOPS

# the message hub entry, saved in every checkpoint
RANDOM_STATE_KEY = 'random_state'


@LOOPS.register_module()
class ResumableEpochBasedTrainLoop(EpochBasedTrainLoop):
    """mmengine's epoch-based training loop, resuming a run from a
    checkpoint saved in the middle of an epoch as if it had not stopped.

    On resume, mmengine 0.10's :class:`EpochBasedTrainLoop` sets the
    iteration count of the checkpoint but starts the interrupted epoch
    again from its first batch: the batches trained before the checkpoint
    are trained again, and the epoch runs more than ``len(dataloader)``
    iterations. Checkpoints hold no random states either: a resumed run
    starts from the seed's, so the random augmentations of batches loaded
    in the main process (``num_workers=0``) differ from those of the run
    that stopped.

    This loop records the random states of Python, numpy and torch (and of
    CUDA, once initialised) after each training step in the message hub,
    which every checkpoint saves. On resume it draws and discards the
    batches of the epoch that the checkpoint's iteration had trained, as
    mmengine's ``IterBasedTrainLoop`` does, then restores the random states
    of the checkpoint: training goes on with the batches and augmentations
    of the run that stopped. The sampler orders each epoch by the seed and
    the epoch number; data loader workers, which mmengine seeds the same at
    every epoch, repeat their random draws for the discarded batches,
    unless ``persistent_workers`` keeps them from one epoch to the next.
    Discarding loads up to one epoch of data. Every rank restores the
    states of rank 0, which saved the checkpoint: exact where the ranks
    draw alike, as with mmengine's default
    ``randomness=dict(diff_rank_seed=False)``.

    The arguments are :class:`EpochBasedTrainLoop`'s; select it with
    ``train_cfg = dict(_delete_=True, type='ResumableEpochBasedTrainLoop',
    max_epochs=..., val_interval=...)``.
    """

    def run(self) -> torch.nn.Module:
        """Launch training, taking the random states of a resumed
        checkpoint.

        Returns:
            nn.Module: The trained model.
        """
        self._random_state = (
            self.runner.message_hub.get_info(RANDOM_STATE_KEY)
            if self._iter > 0 else None)
        return super().run()

    def run_epoch(self) -> None:
        """Iterate over the batches of one epoch that remain to train."""
        done = self._iter - self._epoch * len(self.dataloader)
        if not 0 <= done <= len(self.dataloader):
            raise ValueError(
                f'iteration {self._iter} is not in epoch {self._epoch + 1} '
                f'of {len(self.dataloader)} iterations: the checkpoint was '
                'saved with another batch size or number of processes')
        if done == 0:
            # the run that stopped started the epoch after the checkpoint
            self._restore_random_state()
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        batches = iter(self.dataloader)
        for _ in range(done):
            next(batches)
        self._restore_random_state()
        for idx, data_batch in enumerate(batches, done):
            self.run_iter(idx, data_batch)

        self.runner.call_hook('after_train_epoch')
        self._epoch += 1

    def run_iter(self, idx: int, data_batch: Sequence[dict]) -> None:
        """Train on one batch, recording the random states for the
        checkpoints of the ``after_train_iter`` hooks.

        Args:
            idx (int): The index of the batch in the epoch.
            data_batch (Sequence[dict]): The batch from the dataloader.
        """
        self.runner.call_hook(
            'before_train_iter', batch_idx=idx, data_batch=data_batch)
        outputs = self.runner.model.train_step(
            data_batch, optim_wrapper=self.runner.optim_wrapper)
        self.runner.message_hub.update_info(RANDOM_STATE_KEY,
                                            _get_random_state())
        self.runner.call_hook(
            'after_train_iter',
            batch_idx=idx,
            data_batch=data_batch,
            outputs=outputs)
        self._iter += 1

    def _restore_random_state(self) -> None:
        """Restore the random states of the resumed checkpoint, once."""
        if self._random_state is not None:
            _set_random_state(self._random_state)
            self._random_state = None


def _get_random_state() -> dict:
    """The random states of Python, numpy, torch and initialised CUDA, in
    types that torch's weights-only ``torch.load`` reads."""
    numpy_state = np.random.get_state(legacy=False)
    key = numpy_state['state']['key']
    numpy_state['state']['key'] = torch.from_numpy(key.astype(np.int64))
    state = dict(
        python=random.getstate(),
        numpy=numpy_state,
        torch=torch.get_rng_state())
    if torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def _set_random_state(state: dict) -> None:
    """Restore random states that :func:`_get_random_state` returned.

    Args:
        state (dict): The random states.
    """
    random.setstate(state['python'])
    numpy_state = dict(state['numpy'])
    numpy_state['state'] = dict(
        numpy_state['state'],
        key=numpy_state['state']['key'].numpy().astype(np.uint32))
    np.random.set_state(numpy_state)
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])
