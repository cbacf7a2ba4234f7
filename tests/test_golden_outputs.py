# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""The outputs recorded before the redesign of 2026-12 (commit 571389d) by
``tests/golden_outputs.py`` are still given: state-dict keys exactly,
pose counts exactly, losses, gradient norms, keypoints and scores within
the float rounding of :data:`golden_outputs.TOLERANCES`."""
import os.path as osp

import numpy as np
import pytest
from golden_outputs import TOLERANCES, golden_outputs

from samkr_deploy import OnnxBottomupPoseEstimator
from samkr_mmpose.apis import export_onnx

GOLDEN = osp.join(osp.dirname(__file__), 'data', 'golden_outputs.npz')


@pytest.fixture(scope='module')
def outputs():
    return golden_outputs(export_onnx, OnnxBottomupPoseEstimator)


def test_same_outputs_as_recorded(outputs):
    golden = np.load(GOLDEN)
    assert sorted(outputs) == sorted(golden.files)
    poses = 0
    for key in golden.files:
        expected, actual = golden[key], outputs[key]
        kind = key.split('/')[-1] if '/loss/' not in key else 'loss'
        kind = 'grad' if '/grad/' in key else kind
        if kind == 'keys':
            np.testing.assert_array_equal(actual, expected, err_msg=key)
            continue
        assert actual.shape == expected.shape, key
        poses += kind == 'keypoints' and len(expected)
        np.testing.assert_allclose(
            actual,
            expected,
            rtol=TOLERANCES[kind] if kind in ('loss', 'grad') else 0,
            atol=0 if kind in ('loss', 'grad') else TOLERANCES[kind],
            err_msg=key)
    # the comparison is not vacuous: the photos give poses
    assert poses >= 100
