# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""The command lines users run: ``tools/train.py`` (also ``--resume``),
``tools/test.py``, ``mim train/test mmpose`` and the main job, each in a
fresh interpreter on generated data, loading the checkpoints they wrote
under torch's weights-only ``torch.load``."""
import os
import os.path as osp
import re
import subprocess
import sys

import cv2
import pytest
from helpers import shrink_options

from samkr_mmpose.datasets import generate_synthetic_crowd

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = osp.join(ROOT, 'configs', 'samkr',
                  'samkr_hrnet-w32_8xb10-140e_coco-512x512.py')
MIM = osp.join(osp.dirname(sys.executable), 'mim')


def cli_options(options: dict) -> list:
    """``--cfg-options`` arguments for a dict of dotted keys."""
    return [
        f'{key}={value!r}'.replace("'", '') for key, value in options.items()
    ]


@pytest.fixture(scope='module')
def options(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('data'))
    ann_file = generate_synthetic_crowd(
        root, 4, 'val', 'coco', seed=0, image_size=(128, 128))
    options = shrink_options()
    # schedules are lists of dicts, which the command line cannot spell
    del options['param_scheduler']
    options.update({
        'test_evaluator.ann_file': ann_file,
        'val_evaluator.ann_file': ann_file,
        'train_dataloader.batch_size': 2,
        'train_cfg.max_epochs': 1,
        'train_cfg.val_interval': 5,
        'default_hooks.checkpoint.interval': 1,
    })
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options[f'{loader}.dataset.data_root'] = root
        options[f'{loader}.dataset.ann_file'] = osp.relpath(ann_file, root)
        options[f'{loader}.dataset.data_prefix.img'] = 'val2017/'
    return options


def run(*args: str, cwd: str = ROOT) -> str:
    result = subprocess.run(
        args,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=dict(os.environ, PYTHONWARNINGS='ignore'))
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


def test_train_resume_and_test(options, tmp_path):
    work_dir = str(tmp_path)
    train = [sys.executable, 'tools/train.py', CONFIG, '--work-dir', work_dir]
    run(*train, '--cfg-options', *cli_options(options))
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))

    log = run(*train, '--resume', '--cfg-options',
              *cli_options({
                  **options, 'train_cfg.max_epochs': 2
              }))
    assert re.search(r'resumed epoch: 1, iter: 2', log), log[-2000:]
    assert osp.isfile(osp.join(work_dir, 'epoch_2.pth'))

    log = run(sys.executable, 'tools/test.py', CONFIG,
              osp.join(work_dir, 'epoch_2.pth'), '--work-dir', work_dir,
              '--cfg-options', *cli_options(options))
    assert re.search(r'coco/AP: \d\.\d+', log), log[-2000:]


def test_mim_train_and_test(options, tmp_path):
    work_dir = str(tmp_path)
    run(MIM, 'train', 'mmpose', CONFIG, '--work-dir', work_dir,
        '--cfg-options', *cli_options(options))
    checkpoint = osp.join(work_dir, 'epoch_1.pth')
    assert osp.isfile(checkpoint)
    log = run(MIM, 'test', 'mmpose', CONFIG, '--checkpoint', checkpoint,
              '--work-dir', work_dir, '--cfg-options', *cli_options(options))
    assert re.search(r'coco/AP: \d\.\d+', log), log[-2000:]


def test_main_job(tmp_path):
    """``make demo``'s job, shortened: it writes its data, trains, prints
    the AP table and draws the predictions."""
    work_dir = str(tmp_path / 'work')
    log = run(
        sys.executable,
        osp.join(ROOT, 'tools', 'run_demo.py'),
        '--num-train',
        '6',
        '--num-val',
        '3',
        '--work-dir',
        work_dir,
        '--cfg-options',
        'train_cfg.max_epochs=1',
        'train_dataloader.batch_size=2',
        cwd=str(tmp_path))
    assert osp.isfile(tmp_path / 'data' / 'synthetic_coco' / 'annotations' /
                      'person_keypoints_val2017.json')
    assert re.search(r'\| coco/AP \| \d\.\d{4} \|', log), log[-2000:]
    # three 160x160 validation images enlarged to 320x320; --kpt-thr 0
    # sends every keypoint through the drawing calls (the untrained
    # model's scores make them transparent)
    picture = cv2.imread(osp.join(work_dir, 'predictions.jpg'))
    assert picture.shape == (320, 3 * 320, 3)
