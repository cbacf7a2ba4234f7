# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""The paper's four main configs, trained a few iterations and tested with
MMPose's runner, pipelines, SPR codec and ``CocoMetric``, on the real mini
sets in ``../shared/data`` and on generated synthetic data.

Only the backbone, the input size and the schedule are shrunk, through the
same dotted overrides ``--cfg-options`` takes; the configs are not edited.
The real-set tests need ``../shared/data`` beside the repository (CI has
it). The demo config, trained briefly, must raise its AP, and its ONNX
export must find the poses PyTorch finds on every real photo.
"""
import glob
import json
import math
import os.path as osp

import mmcv
import numpy as np
import pytest
from helpers import ROOT, SHARED_DATA, data_options, shrink_options
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmpose.apis import init_model
from samkr_deploy import OnnxBottomupPoseEstimator
from samkr_mmpose.apis import export_onnx
from samkr_mmpose.apis.export_onnx import reference_poses
from samkr_mmpose.datasets import generate_synthetic_crowd

CONFIGS = {
    'coco': [
        'configs/samkr/samkr_hrnet-w32_8xb10-140e_coco-512x512.py',
        'configs/samkr/samkr_hrnet-w48_8xb10-140e_coco-640x640.py',
    ],
    'crowdpose': [
        'configs/samkr/samkr_hrnet-w32_8xb10-140e_crowdpose-512x512.py',
        'configs/samkr/samkr_hrnet-w48_8xb5-140e_crowdpose-640x640.py',
    ],
}
# the real mini sets: (annotation file, image folder) under SHARED_DATA
SHARED_SETS = {
    'coco': ('coco', 'test_coco.json'),
    'crowdpose': ('crowdpose', 'test_crowdpose.json'),
}


class LossRecorder(Hook):
    """Keep the total loss of every training iteration."""

    def __init__(self):
        self.losses = []

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        self.losses.append(outputs['loss'].item())


def train_and_test(config: str, options: dict, work_dir: str, num_images: int):
    """Train about 8 iterations of 2 images, then test.

    Epoch-based: mmengine's iteration-based loop sleeps 2 s whenever it
    restarts a dataloader, i.e. every few iterations on these tiny sets.
    """
    epochs = math.ceil(16 / num_images)
    cfg = Config.fromfile(osp.join(ROOT, config))
    # the overrides address these pipeline steps by index
    train = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    assert train[1:4:2] == ['BottomupRandomAffine', 'GenerateTarget'], train
    assert cfg.test_dataloader.dataset.pipeline[1].type == 'BottomupResize'
    cfg.merge_from_dict(options)
    cfg.merge_from_dict({
        'work_dir': work_dir,
        'train_dataloader.batch_size': 2,
        'train_cfg.max_epochs': epochs,
        'train_cfg.val_interval': epochs + 1,
        'default_hooks.checkpoint.interval': epochs,
        'default_hooks.logger.interval': 1,
        'randomness': dict(seed=0),
    })
    runner = Runner.from_cfg(cfg)
    recorder = LossRecorder()
    runner.register_hook(recorder)
    runner.train()
    return recorder.losses, runner.test()


def check_run(dataset: str,
              losses: list,
              metrics: dict,
              low: float = -1) -> None:
    """Finite losses that fall, and every metric of the dataset in
    ``[low, 1]`` (-1 is COCO's "no ground truth in this category")."""
    assert all(math.isfinite(loss) for loss in losses), losses
    half = len(losses) // 2
    assert sum(losses[half:]) < sum(losses[:half]), losses
    prefix = 'coco' if dataset == 'coco' else 'crowdpose'
    names = ['AP', 'AP .5', 'AR']
    if dataset == 'crowdpose':
        names += ['AP(E)', 'AP(M)', 'AP(H)']
    for name in names:
        value = metrics[f'{prefix}/{name}']
        assert math.isfinite(value) and low <= value <= 1, (name, value)


@pytest.mark.parametrize('dataset, config',
                         [(name, config) for name, configs in CONFIGS.items()
                          for config in configs])
def test_real_mini_sets(dataset, config, tmp_path):
    folder, ann_file = SHARED_SETS[dataset]
    options = {
        **shrink_options(),
        **data_options(osp.join(SHARED_DATA, folder), ann_file, '')
    }
    with open(osp.join(SHARED_DATA, folder, ann_file)) as f:
        num_images = len(json.load(f)['images'])
    losses, metrics = train_and_test(config, options, str(tmp_path),
                                     num_images)
    check_run(dataset, losses, metrics)


@pytest.mark.parametrize('dataset, config',
                         [(name, config) for name, configs in CONFIGS.items()
                          for config in configs])
def test_synthetic_sets(dataset, config, tmp_path):
    root = str(tmp_path / 'data')
    split = 'val' if dataset == 'coco' else 'test'
    ann_file = generate_synthetic_crowd(
        root, 4, split, dataset, seed=0, image_size=(160, 128))
    img_dir = 'val2017/' if dataset == 'coco' else 'images/'
    options = {
        **shrink_options(),
        **data_options(root, osp.relpath(ann_file, root), img_dir)
    }
    losses, metrics = train_and_test(config, options, str(tmp_path / 'work'),
                                     4)
    # AP, AP .5 and AR exist on synthetic data; only the crowd levels may
    # have no ground truth
    check_run(
        dataset, losses, metrics, low=-1 if dataset == 'crowdpose' else 0)


@pytest.fixture(scope='module')
def trained_demo(tmp_path_factory):
    """The demo config (paper W32 COCO config, small HRNet) trained 150
    iterations on 8 synthetic images: its config file, checkpoint, and COCO
    AP on those images untrained and trained."""
    tmp_path = tmp_path_factory.mktemp('trained_demo')
    root = str(tmp_path / 'data')
    ann_file = generate_synthetic_crowd(
        root,
        8,
        'val',
        'coco',
        seed=0,
        image_size=(128, 128),
        num_people=(1, 2),
        person_height=(0.6, 0.9))
    options = shrink_options(input_size=128)
    # keep the demo's width-16 HRNet, learning rate and data loading
    kept = ('in_channels', 'num_workers', 'persistent_workers')
    for key in list(options):
        if key.startswith('model.backbone') or key.endswith(kept):
            del options[key]
    del options['model.head.rescore_cfg.init_cfg']
    options.update(data_options(root, osp.relpath(ann_file, root), 'val2017/'))
    options.update({
        'work_dir': str(tmp_path / 'work'),
        'train_dataloader.batch_size': 8,
        'train_cfg.max_epochs': 150,
        'train_cfg.val_interval': 151,
        'default_hooks.checkpoint.interval': 150,
        'randomness': dict(seed=0),
    })
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', 'synthetic',
                 'samkr_hrnet-w16_1xb16-16e_synthcoco-160x160.py'))
    cfg.merge_from_dict(options)
    config_file = str(tmp_path / 'trained_demo.py')
    cfg.dump(config_file)
    runner = Runner.from_cfg(cfg)
    untrained = runner.test()['coco/AP']
    runner.train()
    trained = runner.test()['coco/AP']
    return config_file, osp.join(cfg.work_dir,
                                 'epoch_150.pth'), (untrained, trained)


def test_training_raises_ap(trained_demo):
    """The demo config learns: COCO AP on its 8 training images, untrained
    and after 150 iterations.

    A learning check, not a generalisation one: held-out AP needs the
    minutes of training ``make demo`` spends.
    """
    untrained, trained = trained_demo[2]
    assert trained > untrained + 0.1, (untrained, trained)


@pytest.mark.parametrize('match_heatmap', [False, True])
def test_onnx_matches_pytorch_with_trained_weights(trained_demo, tmp_path,
                                                   match_heatmap):
    """The torch-free estimator of the trained model finds the poses of
    ``inference_bottomup`` on every real photo of ``../shared/data`` and on
    uniform black and grey images: the same number, keypoints within 1
    px."""
    config_file, checkpoint, _ = trained_demo
    model = init_model(config_file, checkpoint, device='cpu')
    model.test_cfg['match_heatmap'] = match_heatmap
    out = str(tmp_path / 'trained.onnx')
    export_onnx(model, out)
    estimator = OnnxBottomupPoseEstimator(
        out, test_cfg=dict(match_heatmap=match_heatmap))
    photos = sorted(glob.glob(osp.join(SHARED_DATA, '*', '*.jpg')))
    assert len(photos) == 9
    # uniform images once crashed the matching: poses, no keypoint to refine
    uniform = [np.full((100, 80, 3), v, np.uint8) for v in (0, 128)]
    found = 0
    for photo in photos + uniform:
        img = mmcv.imread(photo) if isinstance(photo, str) else photo
        keypoints, scores = estimator(img)
        expected_keypoints, expected_scores = reference_poses(model, img)
        name = photo if isinstance(photo, str) else f'uniform {img[0, 0]}'
        assert keypoints.shape == expected_keypoints.shape, name
        np.testing.assert_allclose(
            keypoints, expected_keypoints, rtol=0, atol=1, err_msg=name)
        np.testing.assert_allclose(
            scores, expected_scores, rtol=1e-4, atol=1e-5, err_msg=name)
        found += len(keypoints)
    assert found > 0
