# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Shared test helpers: MMPose metadata, SPR targets and tolerances."""
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
