# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Shared test helpers: MMPose metadata, SPR targets, tolerances, a tiny
config and the overrides that shrink the paper's configs."""
import os.path as osp
from typing import List

import numpy as np
import torch
from mmengine.structures import PixelData

import mmpose
from mmpose.datasets.datasets.utils import parse_pose_metainfo
from mmpose.registry import KEYPOINT_CODECS
from mmpose.structures import PoseDataSample

DATASET_META_FILES = {17: 'coco.py', 14: 'crowdpose.py'}
MMPOSE_CONFIGS = osp.join(osp.dirname(mmpose.__file__), '.mim', 'configs')
TESTS = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(TESTS)
# the real photos and video beside the project (CI has them too)
SHARED_DATA = osp.join(osp.dirname(ROOT), 'shared', 'data')


def dataset_meta(num_keypoints: int) -> dict:
    """MMPose's COCO (17) or CrowdPose (14) keypoint metadata."""
    name = DATASET_META_FILES[num_keypoints]
    return parse_pose_metainfo(
        dict(from_file=osp.join(MMPOSE_CONFIGS, '_base_', 'datasets', name)))


def spr_codec(input_size: int = 64, heatmap_size: int = 16) -> dict:
    """An SPR codec config generating keypoint heatmaps, as DEKR's."""
    return dict(
        type='SPR',
        input_size=(input_size, input_size),
        heatmap_size=(heatmap_size, heatmap_size),
        sigma=(2, 1),
        minimal_diagonal_length=2,
        generate_keypoint_heatmaps=True,
        decode_max_instances=10)


def make_batch(num_keypoints: int,
               batch_size: int = 2,
               input_size: int = 64,
               heatmap_size: int = 16,
               seed: int = 0) -> List[PoseDataSample]:
    """Data samples with SPR targets of two random people per image."""
    codec = KEYPOINT_CODECS.build(spr_codec(input_size, heatmap_size))
    meta = dataset_meta(num_keypoints)
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(batch_size):
        centres = rng.uniform(0.3, 0.7, (2, 1, 2)) * input_size
        keypoints = centres + rng.normal(0, input_size / 10,
                                         (2, num_keypoints, 2))
        visible = (rng.uniform(size=(2, num_keypoints))
                   > 0.2).astype(np.float32)
        encoded = codec.encode(keypoints.astype(np.float32), visible)
        sample = PoseDataSample(
            metainfo=dict(
                input_size=(input_size, input_size),
                flip_indices=meta['flip_indices'],
                skeleton_links=meta['skeleton_links']))
        sample.gt_fields = PixelData(**{
            k: torch.from_numpy(v)
            for k, v in encoded.items()
        })
        samples.append(sample)
    return samples


def assert_close(actual: torch.Tensor, expected: torch.Tensor,
                 tol: float) -> None:
    """Assert two tensors agree to ``tol`` relative to ``expected``'s
    magnitude, and that the comparison is not vacuous."""
    scale = expected.abs().max().item()
    assert scale > 0, 'the reference is all zeros'
    err = (actual - expected).abs().max().item()
    assert err <= tol * scale, f'max abs error {err:.3g} > {tol} x {scale:.3g}'


# HRNet with 8/16/32/64 channels: the neck concatenates 120
TINY_CONFIG = """
_base_ = ['mmpose::body_2d_keypoint/dekr/coco/'
          'dekr_hrnet-w32_8xb10-140e_coco-512x512.py']
custom_imports = dict(imports=['samkr_mmpose'], allow_failed_imports=False)
codec = dict(
    type='SPR', input_size=(128, 128), heatmap_size=(32, 32), sigma=(4, 2),
    minimal_diagonal_length=32**0.5, generate_keypoint_heatmaps=True,
    decode_max_instances=30)
model = dict(
    backbone=dict(
        extra=dict(
            stage1=dict(num_blocks=(1, ), num_channels=(16, )),
            stage2=dict(num_blocks=(1, 1), num_channels=(8, 16)),
            stage3=dict(num_modules=1, num_blocks=(1, 1, 1),
                        num_channels=(8, 16, 32)),
            stage4=dict(num_modules=1, num_blocks=(1, 1, 1, 1),
                        num_channels=(8, 16, 32, 64))),
        init_cfg=None),
    head=dict(
        type='SAMKRHead', in_channels=120, decoder=codec, rescore_cfg=None,
        heatmap_loss=dict(_delete_=True, type='AdaptiveHeatmapLoss'),
        scale_loss=dict(type='HeatmapScaleLoss')))
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='BottomupResize', input_size=codec['input_size'],
         size_factor=32, resize_mode='expand'),
    dict(type='PackPoseInputs', meta_keys=(
        'id', 'img_id', 'img_path', 'ori_shape', 'img_shape', 'input_size',
        'input_center', 'input_scale', 'flip', 'flip_direction',
        'flip_indices', 'skeleton_links'))
]
test_dataloader = dict(dataset=dict(pipeline=val_pipeline))
"""


def shrink_options(input_size: int = 128) -> dict:
    """``--cfg-options`` for a width-8 HRNet with one block per branch,
    small inputs and a constant learning rate.

    Pipeline entries are addressed by index: 1 is ``BottomupRandomAffine``
    and 3 ``GenerateTarget`` in training, 1 ``BottomupResize`` in test.
    """
    size = (input_size, input_size)
    heatmap = (input_size // 4, input_size // 4)
    extra = 'model.backbone.extra'
    options = {
        'model.backbone.init_cfg': None,
        f'{extra}.stage1.num_blocks': (1, ),
        f'{extra}.stage1.num_channels': (16, ),
        f'{extra}.stage2.num_blocks': (1, 1),
        f'{extra}.stage2.num_channels': (8, 16),
        f'{extra}.stage3.num_modules': 1,
        f'{extra}.stage3.num_blocks': (1, 1, 1),
        f'{extra}.stage3.num_channels': (8, 16, 32),
        f'{extra}.stage4.num_modules': 1,
        f'{extra}.stage4.num_blocks': (1, 1, 1, 1),
        f'{extra}.stage4.num_channels': (8, 16, 32, 64),
        'model.head.in_channels': 120,
        'model.head.rescore_cfg.init_cfg': None,
        'model.head.decoder.input_size': size,
        'model.head.decoder.heatmap_size': heatmap,
        'train_dataloader.dataset.pipeline.1.input_size': size,
        'train_dataloader.dataset.pipeline.3.encoder.input_size': size,
        'train_dataloader.dataset.pipeline.3.encoder.heatmap_size': heatmap,
        'val_dataloader.dataset.pipeline.1.input_size': size,
        'test_dataloader.dataset.pipeline.1.input_size': size,
        'param_scheduler': [dict(type='ConstantLR', factor=1.0)],
    }
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options[f'{loader}.num_workers'] = 0
        options[f'{loader}.persistent_workers'] = False
    return options


def data_options(root: str, ann_file: str, img_dir: str) -> dict:
    """Train and test on one annotation file."""
    options = {
        'val_evaluator.ann_file': osp.join(root, ann_file),
        'test_evaluator.ann_file': osp.join(root, ann_file),
    }
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options[f'{loader}.dataset.data_root'] = root
        options[f'{loader}.dataset.ann_file'] = ann_file
        options[f'{loader}.dataset.data_prefix'] = dict(img=img_dir)
    return options
