# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""The command lines users run: ``tools/train.py`` (also ``--resume``),
``tools/test.py``, ``mim train/test mmpose`` and the main job, each in a
fresh interpreter on generated data, loading the checkpoints they wrote
under torch's weights-only ``torch.load``."""
import json
import os
import os.path as osp
import re
import subprocess
import sys

import cv2
import numpy as np
import pytest
from helpers import ROOT, shrink_options
from mmengine.config import Config
from mmengine.structures import InstanceData

import mmpose.apis
from mmpose.registry import VISUALIZERS
from mmpose.structures import PoseDataSample
from samkr_mmpose.apis import DEMO_CONFIGS, draw_predictions, point_to_data
from samkr_mmpose.datasets import generate_synthetic_crowd

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

    metrics = []
    for batch_size in (1, 3):
        log = run(
            sys.executable, 'tools/test.py', CONFIG,
            osp.join(work_dir, 'epoch_2.pth'), '--work-dir', work_dir,
            '--cfg-options',
            *cli_options({
                **options, 'test_dataloader.batch_size': batch_size
            }))
        metrics.append(re.search(r'coco/AP: .*coco/AR \(L\): -?\d\.\d+', log))
        assert metrics[-1], log[-2000:]
    # batched inference scores as one by one
    assert metrics[0].group() == metrics[1].group()


def test_mim_train_and_test(options, tmp_path):
    work_dir = str(tmp_path)
    run(MIM, 'train', 'mmpose', CONFIG, '--work-dir', work_dir,
        '--cfg-options', *cli_options(options))
    checkpoint = osp.join(work_dir, 'epoch_1.pth')
    assert osp.isfile(checkpoint)
    log = run(MIM, 'test', 'mmpose', CONFIG, '--checkpoint', checkpoint,
              '--work-dir', work_dir, '--cfg-options', *cli_options(options))
    assert re.search(r'coco/AP: \d\.\d+', log), log[-2000:]


@pytest.mark.parametrize('dataset, metric, ann_file', [
    ('coco', 'coco/AP', 'person_keypoints_val2017.json'),
    ('crowdpose', 'crowdpose/AP(H)', 'mmpose_crowdpose_test.json'),
])
def test_main_job(dataset, metric, ann_file, tmp_path):
    """``make demo``'s job, shortened: it writes its data, trains, prints
    the AP table and draws the predictions."""
    work_dir = str(tmp_path / 'work')
    log = run(
        sys.executable,
        osp.join(ROOT, 'tools', 'run_demo.py'),
        '--dataset',
        dataset,
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
    assert osp.isfile(tmp_path / 'data' / f'synthetic_{dataset}' /
                      'annotations' / ann_file)
    assert re.search(rf'\| {re.escape(metric)} \| -?\d\.\d{{4}} \|',
                     log), log[-2000:]
    # three 160x160 validation images, enlarged to 320x320
    picture = cv2.imread(osp.join(work_dir, 'predictions.jpg'))
    assert picture.shape == (320, 3 * 320, 3)


def test_predictions_are_drawn(tmp_path, monkeypatch):
    """The main job draws every keypoint scoring above the threshold with
    the configs' visualizer, also after a runner made one (a named
    singleton)."""
    root = str(tmp_path)
    generate_synthetic_crowd(root, 2, 'train', 'coco', image_size=(160, 160))
    ann_file = generate_synthetic_crowd(
        root, 2, 'val', 'coco', seed=1, image_size=(160, 160))
    cfg = Config.fromfile(osp.join(ROOT, DEMO_CONFIGS[('coco', False)]))
    point_to_data(cfg, 'coco', root)
    VISUALIZERS.build(cfg.visualizer)  # what the runner does

    with open(ann_file) as f:
        data = json.load(f)
    truth = {}
    for ann in data['annotations']:
        truth.setdefault(ann['image_id'], []).append(ann['keypoints'])

    def ground_truth(model, path):
        image_id = int(osp.splitext(osp.basename(path))[0])
        keypoints = np.array(truth[image_id]).reshape(-1, 17, 3)
        sample = PoseDataSample()
        sample.pred_instances = InstanceData(
            keypoints=keypoints[..., :2],
            keypoint_scores=(keypoints[..., 2] > 0).astype(float))
        return [sample]

    monkeypatch.setattr(mmpose.apis, 'inference_bottomup', ground_truth)
    out_file = str(tmp_path / 'predictions.jpg')
    draw_predictions(cfg, None, out_file)
    picture = cv2.imread(out_file)
    assert picture.shape == (320, 2 * 320, 3)
    first = cv2.imread(
        osp.join(root, 'val2017', data['images'][0]['file_name']))
    plain = cv2.resize(first, (320, 320), interpolation=cv2.INTER_NEAREST)
    changed = np.abs(picture[:, :320].astype(int) - plain).max(-1) > 60
    assert changed.mean() > 0.01, 'no skeleton drawn'
