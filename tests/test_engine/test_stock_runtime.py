# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""The paper's configs run on stock mmengine and MMPose components once the
opt-in line of ``configs/_base_/samkr_hardened_runtime.py`` is removed, and
with it get the hardened types of the configs before the line existed."""
import copy
import os.path as osp
import shutil

import numpy as np
import pytest
from helpers import (MMPOSE_CONFIGS, ROOT, SHARED_DATA, data_options,
                     dataset_meta, shrink_options)
from mmengine.config import Config
from mmengine.hooks import CheckpointHook
from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop, Runner
from mmengine.structures import InstanceData

from mmpose.datasets import CocoDataset, CrowdPoseDataset
from mmpose.datasets.transforms import LoadImage
from mmpose.models import BottomupPoseEstimator
from mmpose.registry import VISUALIZERS
from mmpose.structures import PoseDataSample
from samkr_mmpose.datasets import (CheckedCocoDataset, CheckedCrowdPoseDataset,
                                   LoadAnyImage)
from samkr_mmpose.engine import (AtomicCheckpointHook, KeypointConsistencyHook,
                                 NonFiniteLossHook,
                                 ResumableEpochBasedTrainLoop,
                                 SAMKRHardenedRunner, harden_runtime_config)
from samkr_mmpose.models import BatchedBottomupPoseEstimator
from samkr_mmpose.visualization import Numpy2PoseLocalVisualizer

HARDENED_LINE = "    '../_base_/samkr_hardened_runtime.py',"
# config (under configs/), dataset, val_interval of the paper's configs
CONFIGS = {
    'samkr/samkr_hrnet-w32_8xb10-140e_coco-512x512.py': ('coco', 10),
    'samkr/samkr_hrnet-w48_8xb10-140e_coco-640x640.py': ('coco', 10),
    'samkr/samkr_hrnet-w32_8xb10-140e_crowdpose-512x512.py': ('crowdpose', 20),
    'samkr/samkr_hrnet-w48_8xb5-140e_crowdpose-640x640.py': ('crowdpose', 20),
    'synthetic/samkr_hrnet-w16_1xb16-16e_synthcoco-160x160.py': ('coco', 8),
}
SHARED_SETS = {
    'coco': ('test_coco.json', 4, CocoDataset, CheckedCocoDataset),
    'crowdpose':
    ('test_crowdpose.json', 2, CrowdPoseDataset, CheckedCrowdPoseDataset),
}


@pytest.fixture(scope='module')
def stock_configs(tmp_path_factory) -> str:
    """A copy of ``configs/`` whose main configs lack the hardened line."""
    root = str(tmp_path_factory.mktemp('configs'))
    shutil.copytree(osp.join(ROOT, 'configs'), root, dirs_exist_ok=True)
    for name in CONFIGS:
        path = osp.join(root, name)
        with open(path, encoding='utf-8') as f:
            lines = f.read().splitlines(keepends=True)
        kept = [line for line in lines if not line.startswith(HARDENED_LINE)]
        assert len(kept) == len(lines) - (name.startswith('samkr/'))
        with open(path, 'w', encoding='utf-8') as f:
            f.writelines(kept)
    return root


def tiny(path: str, dataset: str, work_dir: str) -> Config:
    """A config shrunk to train one step on a shared mini set."""
    ann_file, num_images = SHARED_SETS[dataset][:2]
    cfg = Config.fromfile(path)
    options = shrink_options()
    if cfg.model.head.rescore_cfg is None:
        del options['model.head.rescore_cfg.init_cfg']
    cfg.merge_from_dict(options)
    cfg.merge_from_dict(
        data_options(osp.join(SHARED_DATA, dataset), ann_file, ''))
    cfg.merge_from_dict({
        'work_dir': work_dir,
        'train_dataloader.batch_size': num_images,
        'train_cfg.max_epochs': 1,
        'train_cfg.val_interval': 2,
        'model.head.deform_backend': 'torch',
    })
    return cfg


def hook_types(runner: Runner) -> list:
    return [type(hook) for hook in runner.hooks]


@pytest.mark.parametrize('name', CONFIGS)
def test_trains_on_stock_components(name, stock_configs, tmp_path):
    dataset, _ = CONFIGS[name]
    stock_dataset = SHARED_SETS[dataset][2]
    cfg = tiny(osp.join(stock_configs, name), dataset, str(tmp_path))
    assert 'runner_type' not in cfg
    runner = Runner.from_cfg(cfg)
    runner.train()

    assert type(runner) is Runner
    assert type(runner.model) is BottomupPoseEstimator
    assert type(runner.train_loop) is EpochBasedTrainLoop
    assert runner.iter == 1
    assert type(runner.train_dataloader.dataset) is stock_dataset
    for loader in (runner.val_dataloader, runner.test_dataloader):
        assert type(loader.dataset) is stock_dataset
        assert type(loader.dataset.pipeline.transforms[0]) is LoadImage
    assert CheckpointHook in hook_types(runner)
    for hook in runner.hooks:
        assert not type(hook).__module__.startswith('samkr_mmpose')


@pytest.mark.parametrize('name', CONFIGS)
def test_builds_the_hardened_components(name, tmp_path):
    dataset, _ = CONFIGS[name]
    checked = SHARED_SETS[dataset][3]
    cfg = tiny(osp.join(ROOT, 'configs', name), dataset, str(tmp_path))
    runner = Runner.from_cfg(cfg)

    assert type(runner) is SAMKRHardenedRunner
    assert type(runner.model) is BatchedBottomupPoseEstimator
    assert type(runner.train_loop) is ResumableEpochBasedTrainLoop
    assert type(runner.train_dataloader.dataset) is checked
    assert type(runner.train_dataloader.dataset.pipeline.transforms[0]) \
        is LoadImage
    for loader in (runner.val_dataloader, runner.test_dataloader):
        assert type(loader.dataset) is checked
        assert type(loader.dataset.pipeline.transforms[0]) is LoadAnyImage
    types = hook_types(runner)
    assert AtomicCheckpointHook in types and CheckpointHook not in types
    assert KeypointConsistencyHook in types and NonFiniteLossHook in types
    if name == next(iter(CONFIGS)):
        runner.train()
        assert runner.iter == 1


def strip_scopes(value):
    """``value`` without the ``_scope_='mmpose'`` that bases addressed as
    ``mmpose::`` add (the default scope of every config here)."""
    if isinstance(value, dict):
        return {
            k: strip_scopes(v)
            for k, v in value.items() if (k, v) != ('_scope_', 'mmpose')
        }
    if isinstance(value, (list, tuple)):
        return type(value)(strip_scopes(v) for v in value)
    return value


@pytest.mark.parametrize('name', CONFIGS)
def test_hardened_config_is_the_configs_before(name, stock_configs):
    """The runner's config from the opt-in line equals the stock config
    but for the swapped types, which are those the configs set before the
    hardened runtime existed."""
    dataset, val_interval = CONFIGS[name]
    checked = SHARED_SETS[dataset][3].__name__
    stock = Config.fromfile(osp.join(stock_configs, name))
    hardened = harden_runtime_config(
        Config.fromfile(osp.join(ROOT, 'configs', name)))

    expected = strip_scopes(copy.deepcopy(stock.to_dict()))
    expected['runner_type'] = SAMKRHardenedRunner.__name__
    expected['model']['type'] = 'BatchedBottomupPoseEstimator'
    expected['train_cfg'] = dict(
        type='ResumableEpochBasedTrainLoop',
        max_epochs=expected['train_cfg']['max_epochs'],
        val_interval=val_interval)
    expected['default_hooks']['checkpoint']['type'] = 'AtomicCheckpointHook'
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        expected[loader]['dataset']['type'] = checked
        if loader != 'train_dataloader':
            expected[loader]['dataset']['pipeline'][0] = dict(
                type='LoadAnyImage')
    expected['custom_hooks'] = [
        dict(type='SyncBuffersHook'),
        dict(type='KeypointConsistencyHook'),
        dict(type='NonFiniteLossHook')
    ]
    assert strip_scopes(hardened.to_dict()) == expected
    assert harden_runtime_config(hardened).to_dict() == hardened.to_dict()


@pytest.mark.parametrize('key, value, match', [
    ('model.type', 'TopdownPoseEstimator', 'BottomupPoseEstimator'),
    ('train_cfg', dict(type=IterBasedTrainLoop.__name__,
                       max_iters=2), 'EpochBasedTrainLoop'),
    ('train_cfg', dict(by_epoch=False, max_iters=2), 'epoch-based'),
    ('default_hooks.checkpoint.type', 'NoSuchHook', 'not in the hook'),
    ('val_dataloader.dataset.type', 'AicDataset', 'COCO and CrowdPose'),
])
def test_refuses_what_it_cannot_map(key, value, match):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', next(iter(CONFIGS))))
    if key == 'train_cfg':
        cfg.train_cfg = value  # merging would keep by_epoch
    else:
        cfg.merge_from_dict({key: value})
    with pytest.raises(ValueError, match=match):
        harden_runtime_config(cfg)


def test_runner_type_must_be_a_runner():
    cfg = Config(dict(runner_type='PoseLocalVisualizer'))
    with pytest.raises(ValueError, match='not a registered Runner'):
        Runner.from_cfg(cfg)


def test_stock_visualizer_draws_on_numpy2():
    """MMPose's DEKR config asks for ``PoseLocalVisualizer``, whose OpenCV
    backend fails on numpy 2; after ``import samkr_mmpose`` it builds the
    fixed subclass and draws the keypoints."""
    cfg = Config.fromfile(
        osp.join(MMPOSE_CONFIGS, 'body_2d_keypoint', 'dekr', 'coco',
                 'dekr_hrnet-w32_8xb10-140e_coco-512x512.py'))
    assert cfg.visualizer.type == 'PoseLocalVisualizer'
    visualizer = VISUALIZERS.build(
        dict(cfg.visualizer, name='test_stock_visualizer_draws_on_numpy2'))
    assert isinstance(visualizer, Numpy2PoseLocalVisualizer)
    visualizer.set_dataset_meta(dataset_meta(17))

    image = np.zeros((64, 64, 3), np.uint8)
    sample = PoseDataSample()
    rng = np.random.default_rng(0)
    sample.pred_instances = InstanceData(
        keypoints=rng.uniform(8, 56, (1, 17, 2)),
        keypoint_scores=np.ones((1, 17)))
    drawn = visualizer.add_datasample(
        'image', image, sample, draw_gt=False, kpt_thr=0.5)
    assert (drawn != 0).any(-1).mean() > 0.01
