# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Batched bottom-up inference gives every image the poses it gets alone."""
import numpy as np
import pytest
import torch
from helpers import TINY_CONFIG, dataset_meta, make_batch, spr_codec
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate

import samkr_mmpose  # noqa: F401  (registers the models)
from mmpose.registry import MODELS
from mmpose.utils import register_all_modules

pytestmark = pytest.mark.usefixtures('one_thread')

TEST_CFG = dict(
    flip_test=True,
    shift_heatmap=True,
    match_heatmap=True,
    nms_dist_thr=0.05,
    nms_joints_thr=8,
    max_num_people=10)
# float sums in other orders for other batch sizes
ATOL = 1e-3


def assert_same_poses(batched, alone):
    assert len(alone.keypoints) > 0
    np.testing.assert_allclose(batched.keypoints, alone.keypoints, atol=ATOL)
    np.testing.assert_allclose(
        batched.keypoint_scores, alone.keypoint_scores, atol=ATOL)


def test_head_batch_equals_one_by_one():
    head = MODELS.build(
        dict(
            type='SAMKRHead',
            in_channels=32,
            num_keypoints=17,
            decoder=dict(spr_codec(), decode_thr=-1.),
            rescore_cfg=dict(in_channels=74, norm_indexes=(5, 6)))).eval()
    samples = make_batch(17, batch_size=3)
    for sample in samples:
        sample.set_metainfo(
            dict(skeleton_links=dataset_meta(17)['skeleton_links']))
    feats = torch.randn(3, 32, 16, 16)
    with torch.no_grad():
        batched = head.predict([(feats, ), (feats.flip(-1), )], samples,
                               TEST_CFG)
        for i, sample in enumerate(samples):
            one = feats[i:i + 1]
            (alone, ) = head.predict([(one, ), (one.flip(-1), )], [sample],
                                     TEST_CFG)
            assert_same_poses(batched[i], alone)


def test_head_refuses_mixed_input_sizes():
    head = MODELS.build(
        dict(
            type='SAMKRHead',
            in_channels=32,
            num_keypoints=17,
            decoder=spr_codec())).eval()
    samples = make_batch(17, batch_size=2)
    samples[1].set_metainfo(dict(input_size=(96, 64)))
    with pytest.raises(
            ValueError,
            match=r'one input size, got '
            r'\[\(64, 64\), \(96, 64\)\]'):
        head.predict((torch.randn(2, 32, 16, 16), ), samples, {})


def build_estimator():
    register_all_modules()
    model = Config.fromstring(TINY_CONFIG, '.py').model
    model.type = 'BatchedBottomupPoseEstimator'
    model.head.decoder.decode_thr = -1.
    model.test_cfg.update(TEST_CFG)
    torch.manual_seed(0)
    return MODELS.build(model).eval()


def pipeline_data(shape, seed):
    """An image of ``shape`` through DEKR's test pipeline at 64 px."""
    pipeline = Compose([
        dict(
            type='BottomupResize',
            input_size=(64, 64),
            size_factor=32,
            resize_mode='expand'),
        dict(
            type='PackPoseInputs',
            meta_keys=('id', 'img_id', 'ori_shape', 'img_shape', 'input_size',
                       'input_center', 'input_scale', 'flip_indices',
                       'skeleton_links'))
    ])
    image = np.random.default_rng(seed).integers(0, 255, (*shape, 3), np.uint8)
    meta = dataset_meta(17)
    return pipeline(
        dict(
            img=image,
            img_shape=shape,
            ori_shape=shape,
            flip_indices=meta['flip_indices'],
            skeleton_links=meta['skeleton_links']))


@pytest.mark.parametrize('shapes', [
    [(80, 80), (80, 80), (80, 80)],
    [(96, 160), (64, 64), (96, 160), (160, 96)],
])
def test_estimator_batch_equals_one_by_one(shapes):
    model = build_estimator()
    data = [pipeline_data(shape, seed) for seed, shape in enumerate(shapes)]
    sizes = {tuple(d['data_samples'].metainfo['input_size']) for d in data}
    assert len(sizes) == len(set(shapes))
    with torch.no_grad():
        batched = model.test_step(pseudo_collate(data))
        for i, one in enumerate(data):
            (alone, ) = model.test_step(pseudo_collate([one]))
            assert batched[i].metainfo['ori_shape'] == shapes[i]
            assert_same_poses(batched[i].pred_instances, alone.pred_instances)


def test_estimator_refuses_mixed_sizes_in_a_pyramid():
    model = build_estimator()
    samples = [
        pipeline_data(shape, 0)['data_samples']
        for shape in [(64, 64), (64, 128)]
    ]
    inputs = [torch.zeros(2, 3, 64, 128)]
    with pytest.raises(
            ValueError,
            match='multi-scale batch must share one '
            r'input size, got \[\(64, 64\), \(128, 64\)\]'):
        model.predict(inputs, samples)
