# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""The plugin as users meet it: registered names, and a config that imports
it through ``custom_imports`` and runs MMPose's own inference path."""
import json
import subprocess
import sys
import textwrap

import cv2
import numpy as np
from helpers import TINY_CONFIG

import samkr_mmpose
from mmpose.registry import MODELS

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
