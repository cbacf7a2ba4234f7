# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""The plugin as users meet it: registered names, and a config that imports
it through ``custom_imports`` and runs MMPose's own inference path."""
import json
import subprocess
import sys
import textwrap

import cv2
import numpy as np

import samkr_mmpose
from mmpose.registry import MODELS

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
        heatmap_loss=dict(type='AdaptiveHeatmapLoss'),
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

# a fresh interpreter that never imports samkr_mmpose itself
INFERENCE = textwrap.dedent("""
    import json, sys
    from mmpose.apis import inference_bottomup, init_model
    model = init_model(sys.argv[1], device='cpu')
    (result, ) = inference_bottomup(model, sys.argv[2])
    print(json.dumps(dict(
        head=type(model.head).__name__,
        flip_test=model.test_cfg['flip_test'],
        keypoints=list(result.pred_instances.keypoints.shape),
        scores=list(result.pred_instances.keypoint_scores.shape))))
""")


def test_modules_are_registered_and_exported():
    names = {
        'SAMKRHead', 'SubspaceAttention', 'AdaptiveConvBlock',
        'MultiBackendDeformConv2d', 'AdaptiveHeatmapLoss', 'HeatmapScaleLoss'
    }
    assert names <= set(samkr_mmpose.__all__)
    for name in names:
        assert MODELS.get(name) is getattr(samkr_mmpose, name)


def test_config_with_custom_imports_runs_mmpose_inference(tmp_path):
    config = tmp_path / 'samkr_tiny.py'
    config.write_text(TINY_CONFIG)
    image = tmp_path / 'image.jpg'
    rng = np.random.default_rng(0)
    cv2.imwrite(str(image), rng.integers(0, 255, (96, 160, 3), np.uint8))

    out = subprocess.run([sys.executable, '-c', INFERENCE, config, image],
                         capture_output=True,
                         text=True,
                         check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result['head'] == 'SAMKRHead' and result['flip_test'] is True
    num_people = result['keypoints'][0]
    assert result['keypoints'] == [num_people, 17, 2]
    assert result['scores'] == [num_people, 17]
