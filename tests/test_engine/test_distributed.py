# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Distributed training: ``tools/dist_train.sh`` with 2 processes on the CPU
(gloo) and SyncBN trains the model of one process with the same global
batch."""
import glob
import json
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch
from helpers import ROOT, TESTS, assert_close, shrink_options
from mmengine.config import Config
from mmengine.dist import all_reduce
from mmengine.hooks import Hook

from mmpose.registry import HOOKS
from samkr_mmpose.datasets import generate_synthetic_crowd

# the runner imports this module for the toy model registered in it
HERE = osp.dirname(osp.abspath(__file__))
CONFIG = osp.join(ROOT, 'configs', 'samkr',
                  'samkr_hrnet-w32_8xb10-140e_coco-512x512.py')
NUM_IMAGES, GLOBAL_BATCH = 12, 4
STEPS = NUM_IMAGES // GLOBAL_BATCH
# one thread per process: threads only wait for each other on a shared
# 2-core machine (torchrun sets it for its processes too)
ENV = dict(os.environ, PYTHONWARNINGS='ignore', OMP_NUM_THREADS='1')


@HOOKS.register_module()
class ProcessMeanLossHook(Hook):
    """Log the losses averaged over the processes as ``mean_<name>``:
    mmengine logs the losses of rank 0's own batch."""

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        for key, value in outputs.items():
            value = torch.as_tensor(value, dtype=torch.float64).clone()
            all_reduce(value, op='mean')
            runner.message_hub.update_scalar(f'train/mean_{key}', value.item())


@pytest.fixture(scope='module')
def config(tmp_path_factory) -> str:
    """The paper's config, shrunk, with SyncBN, without the random
    augmentations (the processes would draw others than one process), and
    with the displacement loss averaged over all pixels (see
    :func:`test_two_processes_train_like_one`)."""
    root = str(tmp_path_factory.mktemp('data'))
    ann_file = osp.relpath(
        generate_synthetic_crowd(
            root, NUM_IMAGES, 'train', 'coco', image_size=(96, 96)), root)
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict(shrink_options(input_size=64))
    pipeline = 'train_dataloader.dataset.pipeline'
    sgd = dict(type='SGD', lr=0.05, momentum=0.9)
    cfg.custom_imports.imports = ['samkr_mmpose', 'test_distributed']
    cfg.merge_from_dict({
        'sync_bn': 'torch',
        'model.head.deform_backend': 'torch',
        'model.head.displacement_loss.supervise_empty': True,
        f'{pipeline}.1.shift_prob': 0.,
        f'{pipeline}.1.scale_prob': 0.,
        f'{pipeline}.1.rotate_prob': 0.,
        f'{pipeline}.2.prob': 0.,
        'train_dataloader.batch_size': GLOBAL_BATCH,
        'train_dataloader.dataset.data_root': root,
        'train_dataloader.dataset.ann_file': ann_file,
        'train_dataloader.dataset.data_prefix.img': 'train2017/',
        'train_cfg.max_epochs': 1,
        'optim_wrapper.optimizer': sgd,
        'default_hooks.logger.interval': 1,
        'default_hooks.checkpoint.by_epoch': False,
        'default_hooks.checkpoint.interval': 1,
        'default_hooks.checkpoint.save_best': None,
        'randomness.seed': 0,
        'randomness.deterministic': True,
    })
    # log the loss of each iteration, not a running mean
    cfg.log_processor.window_size = 1
    # DEKR's rescore net gets no gradient, which DDP refuses
    cfg.model.head.rescore_cfg = None
    cfg.custom_hooks.append(dict(type='ProcessMeanLossHook'))
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    path = str(tmp_path_factory.mktemp('config') / 'distributed.py')
    cfg.dump(path)
    return path


def run(args: list, **env: str) -> str:
    result = subprocess.run(
        args,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(ENV, PYTHONPATH=os.pathsep.join([HERE, TESTS]), **env))
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def logged(work_dir: str) -> list:
    """The logged scalars of each iteration of the run in ``work_dir``."""
    (path, ) = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_two_processes_train_like_one(config, tmp_path):
    """2 processes with batches of 2 take the steps of one process with
    batches of 4: the sampler gives the processes the two halves of each
    batch of 4, SyncBN normalises by the statistics of all 4 images, and
    DDP averages the gradients of the two halves, which is the gradient of
    the loss of all 4 when the loss is a mean over equally many values per
    image. The paper's displacement loss is not: it divides by the number
    of pixels near people in the batch (``supervise_empty=False``), which
    differs between the halves, so with it the processes take other steps
    (as they do on GPUs); the test averages it over all pixels.

    The losses of the 3 steps agree to 1e-5 (float32 sums in another
    order: 2e-7 measured; without SyncBN 1e-3, 9e-3 and 2e-2), and so do
    the changes of the weights and BatchNorm statistics from the first
    checkpoint to the last (1e-6 of the largest change; without SyncBN
    1.1). The
    test trains with SGD: Adam moves each weight by about ``lr`` times the
    sign of its gradient whatever the gradient's size, so the weights with
    near-zero gradients, whose sign the rounding decides, would differ by
    up to ``lr`` (their losses agree as well).
    """
    one = str(tmp_path / 'one')
    run([sys.executable, 'tools/train.py', config, '--work-dir', one])
    two = str(tmp_path / 'two')
    log = run([
        'bash', 'tools/dist_train.sh', config, '2', '--work-dir', two,
        '--cfg-options', f'train_dataloader.batch_size={GLOBAL_BATCH // 2}'
    ],
              PYTHON=sys.executable,
              PORT=str(free_port()))
    assert 'GPU number: 2' in log, log[-3000:]
    assert "type='CPUDistributedDataParallel'" in log

    expected, actual = logged(one), logged(two)
    assert [r['step'] for r in expected] == list(range(1, STEPS + 1))
    assert [r['step'] for r in actual] == list(range(1, STEPS + 1))
    for step, (e, a) in enumerate(zip(expected, actual), 1):
        for key in ('loss', 'loss/heatmap', 'loss/displacement'):
            assert abs(a[f'mean_{key}'] - e[key]) <= 1e-5 * e[key], (step, key)
        # rank 0 logs the loss of its half, another
        assert abs(a['loss'] - e['loss']) > 1e-3 * e['loss']

    changes = []
    for work_dir in (one, two):
        first, last = (
            torch.load(osp.join(work_dir, f'iter_{i}.pth'))['state_dict']
            for i in (1, STEPS))
        changes.append(
            torch.cat([(last[key] - first[key]).flatten() for key in first
                       if first[key].is_floating_point()]))
        counts = [
            last[key] for key in last if key.endswith('num_batches_tracked')
        ]
        assert counts and all(count == STEPS for count in counts)
    assert_close(changes[1], changes[0], 1e-5)
