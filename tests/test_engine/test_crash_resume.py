# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Nothing is lost when a run dies: a training killed with ``SIGKILL`` in
the middle of an epoch and resumed with ``--resume`` ends with the weights
and the logged losses of an uninterrupted run, and checkpoints are written
atomically."""
import glob
import json
import multiprocessing
import os
import os.path as osp
import re
import signal
import subprocess
import sys
import time

import pytest
import torch
from helpers import ROOT, shrink_options
from mmengine.config import Config
from mmengine.hooks import CheckpointHook
from mmengine.logging import MessageHub, MMLogger
from mmengine.runner import save_checkpoint

from samkr_mmpose.datasets import generate_synthetic_crowd
from samkr_mmpose.engine.atomic_local_backend import AtomicLocalBackend
from samkr_mmpose.engine.hooks.atomic_checkpoint_hook import \
    AtomicCheckpointHook

CONFIG = osp.join(ROOT, 'configs', 'samkr',
                  'samkr_hrnet-w32_8xb10-140e_coco-512x512.py')
NUM_IMAGES, BATCH_SIZE, EPOCHS = 6, 2, 3
ITERS_PER_EPOCH = NUM_IMAGES // BATCH_SIZE
ITERS = EPOCHS * ITERS_PER_EPOCH


@pytest.fixture(scope='module')
def config(tmp_path_factory) -> str:
    """The paper's config, shrunk, with its random augmentations, an
    iteration-wise learning rate, and a checkpoint every 4 iterations (an
    epoch has 3), keeping only the last."""
    root = str(tmp_path_factory.mktemp('data'))
    ann_file = osp.relpath(
        generate_synthetic_crowd(
            root, NUM_IMAGES, 'train', 'coco', image_size=(96, 96)), root)
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict(shrink_options(input_size=64))
    cfg.custom_imports.imports = [
        'samkr_mmpose', 'samkr_mmpose.engine.resumable_epoch_based_train_loop',
        'samkr_mmpose.engine.hooks.atomic_checkpoint_hook'
    ]
    cfg.merge_from_dict({
        'model.head.deform_backend': 'torch',
        'train_dataloader.batch_size': BATCH_SIZE,
        'train_dataloader.dataset.data_root': root,
        'train_dataloader.dataset.ann_file': ann_file,
        'train_dataloader.dataset.data_prefix.img': 'train2017/',
        'default_hooks.logger.interval': 1,
        'default_hooks.checkpoint.type': 'AtomicCheckpointHook',
        'default_hooks.checkpoint.by_epoch': False,
        'default_hooks.checkpoint.interval': 4,
        'default_hooks.checkpoint.max_keep_ckpts': 1,
        'default_hooks.checkpoint.save_best': None,
        'randomness.seed': 0,
        'randomness.deterministic': True,
    })
    # log the loss of each iteration, not a running mean
    cfg.log_processor.window_size = 1
    cfg.model.head.rescore_cfg = None
    cfg.train_cfg = dict(
        type='ResumableEpochBasedTrainLoop', max_epochs=EPOCHS)
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.1, end=4, by_epoch=False)
    ]
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    path = str(tmp_path_factory.mktemp('config') / 'crash.py')
    cfg.dump(path)
    return path


# one thread per process: threads only wait for each other on a shared
# 2-core machine
ENV = dict(os.environ, PYTHONWARNINGS='ignore', OMP_NUM_THREADS='1')


def train_command(config: str, work_dir: str) -> list:
    return [
        sys.executable,
        osp.join(ROOT, 'tools', 'train.py'), config, '--work-dir', work_dir
    ]


def run(args: list) -> str:
    result = subprocess.run(
        args, capture_output=True, text=True, cwd=ROOT, env=ENV)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


def logged_losses(work_dir: str) -> dict:
    """The logged loss of every iteration of every run in ``work_dir``,
    as lists, one entry per run that logged it. A line that a killed run
    did not finish writing (no newline) is left out."""
    losses = {}
    for path in sorted(
            glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            for line in f:
                if line.endswith('\n'):
                    record = json.loads(line)
                    losses.setdefault(record['step'],
                                      []).append(record['loss'])
    return losses


def test_sigkill_mid_epoch_then_resume(config, tmp_path):
    """The run is killed after its first checkpoint, at iteration 4 (or 8
    if the kill comes late), in the second epoch (or third). mmengine's
    loop would train the first batch of that epoch again, and, resuming
    from the seed's random state, draw other augmentations than the run
    that stopped, which had drawn those of the first epoch too."""
    reference = str(tmp_path / 'reference')
    run(train_command(config, reference))
    expected_losses = logged_losses(reference)
    assert sorted(expected_losses) == list(range(1, ITERS + 1))

    work_dir = str(tmp_path / 'killed')
    pointer = osp.join(work_dir, 'last_checkpoint')
    process = subprocess.Popen(
        train_command(config, work_dir),
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    while not osp.exists(pointer) and process.poll() is None:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL, 'the run ended by itself'
    with open(pointer) as f:
        checkpoint = f.read()
    saved_iter = int(re.fullmatch(r'.*iter_(\d+)\.pth', checkpoint).group(1))
    assert saved_iter % ITERS_PER_EPOCH != 0, 'not in the middle of an epoch'
    assert saved_iter > ITERS_PER_EPOCH
    killed_losses = logged_losses(work_dir)

    log = run(train_command(config, work_dir) + ['--resume'])
    assert f'resumed epoch: {saved_iter // ITERS_PER_EPOCH}, ' \
           f'iter: {saved_iter}' in log, log[-2000:]

    # the killed run logged the iterations up to the checkpoint and maybe
    # a few after it, which the resumed run trains again
    losses = logged_losses(work_dir)
    assert sorted(losses) == list(range(1, ITERS + 1))
    for step, values in losses.items():
        runs = 2 if saved_iter < step <= max(killed_losses) else 1
        assert values == [expected_losses[step][0]] * runs, step

    expected = torch.load(osp.join(reference, f'iter_{ITERS}.pth'))
    resumed = torch.load(osp.join(work_dir, f'iter_{ITERS}.pth'))
    assert expected['meta']['iter'] == resumed['meta']['iter'] == ITERS
    for key, value in expected['state_dict'].items():
        assert torch.equal(resumed['state_dict'][key], value), key
    for key, value in expected['optimizer']['state'].items():
        assert torch.equal(resumed['optimizer']['state'][key]['exp_avg'],
                           value['exp_avg']), key
    # only the last checkpoint is kept
    assert sorted(f for f in os.listdir(work_dir)
                  if f.endswith('.pth')) == [f'iter_{ITERS}.pth']


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_atomic_write_failure_keeps_previous_file(tmp_path, monkeypatch):
    """A write that fails after its bytes hit the disk (here ``fsync``)
    leaves the previous file and no temporary file."""
    path = tmp_path / 'latest.pth'
    backend = AtomicLocalBackend()
    backend.put(b'previous', path)
    assert oct(path.stat().st_mode & 0o777) == oct(0o666 & ~_umask())

    def fail(fd):
        raise OSError('disk full')

    monkeypatch.setattr(os, 'fsync', fail)
    with pytest.raises(OSError, match='disk full'):
        backend.put(b'new' * 1000, path)
    assert path.read_bytes() == b'previous'
    assert os.listdir(tmp_path) == ['latest.pth']


def _save_and_stall(checkpoint: dict, path: str, marker: str) -> None:
    """Save ``checkpoint`` to ``path`` with mmengine's ``save_checkpoint``,
    stopping in the ``fsync`` of its temporary file, after all its bytes
    were written, until killed."""

    def stall(fd):
        open(marker, 'w').close()
        time.sleep(60)

    os.fsync = stall
    save_checkpoint(
        checkpoint, path, backend_args=dict(backend='atomic_local'))


def test_sigkill_during_save_keeps_previous_checkpoint(tmp_path):
    path = str(tmp_path / 'latest.pth')
    save_checkpoint({'weights': torch.zeros(3)},
                    path,
                    backend_args=dict(backend='atomic_local'))
    marker = str(tmp_path / 'stalled')
    # 16 MB, made here: a forked process had better not start threads
    new = {'weights': torch.ones(4_000_000)}
    process = multiprocessing.get_context('fork').Process(
        target=_save_and_stall, args=(new, path, marker))
    process.start()
    deadline = time.time() + 60
    while not osp.exists(marker) and time.time() < deadline:
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.join()
    assert process.exitcode == -signal.SIGKILL

    # the previous checkpoint, whole, and the complete new one beside it
    assert torch.equal(torch.load(path)['weights'], torch.zeros(3))
    temp_files = [f for f in os.listdir(tmp_path) if f.endswith('.tmp')]
    assert len(temp_files) == 1 and temp_files[0].startswith('.latest.pth.')
    left = torch.load(osp.join(tmp_path, temp_files[0]))['weights']
    assert torch.equal(left, new['weights'])
    assert AtomicLocalBackend().remove_temp_files(tmp_path) == [
        osp.join(tmp_path, temp_files[0])
    ]
    assert sorted(os.listdir(tmp_path)) == ['latest.pth', 'stalled']


class FakeRunner:
    """What ``CheckpointHook`` uses of a runner, saving ``{'step': n}``
    through mmengine's ``save_checkpoint``."""

    def __init__(self, work_dir: str) -> None:
        self.work_dir = work_dir
        self.logger = MMLogger.get_instance('test_crash_resume')
        self.message_hub = MessageHub.get_instance(f'test_{id(self)}')
        self.step = 0

    def save_checkpoint(self,
                        out_dir,
                        filename,
                        file_client_args=None,
                        backend_args=None,
                        **kwargs) -> None:
        save_checkpoint({'step': self.step},
                        osp.join(out_dir, filename),
                        backend_args=backend_args)


@pytest.mark.parametrize('hook_type, kept', [(CheckpointHook, False),
                                             (AtomicCheckpointHook, True)])
def test_failed_save_keeps_last_checkpoint(hook_type, kept, tmp_path,
                                           monkeypatch):
    """With ``max_keep_ckpts=1``, mmengine's hook deletes the checkpoint to
    resume from before writing the next one: a run dying during that save
    (here ``torch.save`` raises) is left with none. This hook keeps it and
    the pointer to it."""
    runner = FakeRunner(str(tmp_path))
    hook = hook_type(interval=1, by_epoch=False, max_keep_ckpts=1)
    hook.before_train(runner)
    runner.step = 1
    hook._save_checkpoint_with_step(runner, 1, meta={})

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, 'save', killed)
    runner.step = 2
    with pytest.raises(KeyboardInterrupt):
        hook._save_checkpoint_with_step(runner, 2, meta={})
    monkeypatch.undo()

    assert not osp.exists(tmp_path / 'iter_2.pth')
    assert osp.exists(tmp_path / 'iter_1.pth') == kept
    if kept:
        assert (tmp_path / 'last_checkpoint').read_text() == str(tmp_path /
                                                                 'iter_1.pth')
        assert torch.load(tmp_path / 'iter_1.pth') == {'step': 1}
    assert not [f for f in os.listdir(tmp_path) if f.endswith('.tmp')]
