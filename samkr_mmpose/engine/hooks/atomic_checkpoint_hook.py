# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
import os.path as osp
from typing import List

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend, get_file_backend
from mmengine.hooks import CheckpointHook

from mmpose.registry import HOOKS
from ..atomic_local_backend import AtomicLocalBackend


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` whose checkpoints survive a run killed
    at any moment, e.g. by ``SIGKILL``, a node failure or a job time limit.

    :class:`CheckpointHook` of mmengine 0.10 can lose the checkpoint to
    resume from in three ways, which this hook closes:

    1. It writes a checkpoint by truncating the file of its final name and
       filling it: a kill during the write leaves a truncated file. Here a
       checkpoint in a local ``out_dir`` (no ``backend_args`` or
       ``file_client_args`` given) is written by
       :class:`AtomicLocalBackend`: to a temporary file, synced and renamed
       onto its name.
    2. It writes the ``last_checkpoint`` pointer, which ``--resume`` reads,
       by truncating it too. Here it is replaced atomically, after the
       checkpoint it names is complete.
    3. With ``max_keep_ckpts``, it deletes the oldest checkpoint before
       writing the new one: with ``max_keep_ckpts=1`` a kill during the
       write leaves no checkpoint, and the pointer names a deleted file.
       Here the outdated checkpoints are deleted after the new one and the
       pointer are written.

    At the start of training, the temporary files of checkpoints that a
    killed run did not finish are deleted. The previous best checkpoint
    (``save_best``) is still deleted before the new best one is written, as
    by ``CheckpointHook``; resuming does not read it.

    The arguments are :class:`CheckpointHook`'s; select the hook with
    ``default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))``.
    """

    def before_train(self, runner) -> None:
        """Choose the output directory and its file backend, and delete
        the leftovers of unfinished checkpoints.

        Args:
            runner (Runner): The runner of the training process.
        """
        super().before_train(runner)
        if (self.file_client_args is None and self.backend_args is None
                and isinstance(self.file_backend, LocalBackend)):
            self.backend_args = dict(backend='atomic_local')
            self.file_backend = get_file_backend(
                self.out_dir, backend_args=self.backend_args)
        if (is_main_process()
                and isinstance(self.file_backend, AtomicLocalBackend)
                and osp.isdir(self.out_dir)):
            for path in self.file_backend.remove_temp_files(self.out_dir):
                runner.logger.warning(
                    f'Deleted {path}: a checkpoint that a killed run did '
                    'not finish writing')

    def _save_checkpoint_with_step(self, runner, step: int,
                                   meta: dict) -> None:
        """Save the checkpoint of ``step``, then point ``last_checkpoint``
        to it, then delete the checkpoints beyond ``max_keep_ckpts``.

        Args:
            runner (Runner): The runner of the training process.
            step (int): The epoch or iteration (1-based) the checkpoint is
                named after.
            meta (dict): The meta information saved in the checkpoint.
        """
        outdated: List[int] = []
        # a best checkpoint of the same step saves this one again
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and
                                            self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            # saved in the checkpoint, which a resumed run deletes by
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))

        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        # DeepSpeed-like runs save on every rank; rank 0 does the rest
        if not is_main_process():
            return

        AtomicLocalBackend().put_text(
            self.last_ckpt, osp.join(runner.work_dir, 'last_checkpoint'))
        for old_step in outdated:
            path = self.file_backend.join_path(
                self.out_dir, self.filename_tmpl.format(old_step))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):
                # checkpoints saved by DeepSpeed are directories
                self.file_backend.rmtree(path)
