# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""What :class:`OnnxBottomupPoseEstimator` refuses before running the
network, and the empty-image check of :func:`bottomup_resize`."""
import subprocess
import sys

import numpy as np
import pytest
from helpers import ROOT

from samkr_deploy import (MAX_INPUT_SIDE, bottomup_resize, check_image,
                          check_input_size)

IMG = np.zeros((48, 64, 3), np.uint8)


@pytest.mark.parametrize('img,message', [
    (IMG.tolist(), r'must be a numpy array, got list'),
    (IMG[:0], r'the image has no pixels: shape \(0, 64, 3\)'),
    (IMG[..., 0], r'must be \(H, W, 3\) BGR, got shape \(48, 64\)'),
    (np.zeros((48, 64, 4),
              np.uint8), r'must be \(H, W, 3\) BGR, got shape \(48, 64, 4\)'),
    (IMG.astype(np.float32) / 255,
     r'must be uint8 \(0-255, as cv2.imread gives\), got float32; convert'),
    (IMG.astype(np.uint16), r'must be uint8 .*got uint16'),
])
def test_images_refused(img, message):
    with pytest.raises(ValueError, match=message):
        check_image(img)


def test_uint8_bgr_is_taken():
    assert check_image(IMG) is None


def test_bottomup_resize_refuses_an_empty_image():
    with pytest.raises(ValueError, match=r'no pixels: shape \(5, 0, 3\)'):
        bottomup_resize(IMG[:5, :0], (64, 64))


@pytest.mark.parametrize('shape,refused', [((1, 150), True), ((1, 50), True),
                                           ((100, 700), False),
                                           ((480, 640), False),
                                           ((150, 1), True)])
def test_thin_images_are_refused_by_their_input_size(shape, refused):
    """The input size is the one :func:`bottomup_resize` gives at 512."""
    img = np.zeros((*shape, 3), np.uint8)
    _, meta = bottomup_resize(img, (512, 512))
    assert (max(meta['input_size']) > MAX_INPUT_SIDE) == refused
    if not refused:
        check_input_size(meta['input_size'], shape)
        return
    with pytest.raises(
            ValueError,
            match=rf'the image of \(h, w\) \({shape[0]}, {shape[1]}\) gives a '
            rf'network input of \(w, h\) \({meta["input_size"][0]}, '
            rf'{meta["input_size"][1]}\), longer than 4096 px; crop or pad'):
        check_input_size(meta['input_size'], shape)


def test_numpy_functions_import_without_onnxruntime():
    """What samkr_mmpose shares with the deploy package imports where
    onnxruntime (and PyTorch) cannot; the estimator then names what is
    missing."""
    script = """
import sys
for name in ('onnxruntime', 'torch', 'mmpose'):
    sys.modules[name] = None
from samkr_deploy import MAX_INPUT_SIDE, check_input_size, spr_decode
check_input_size((MAX_INPUT_SIDE, 1), (1, 1))
try:
    from samkr_deploy import OnnxBottomupPoseEstimator
except ImportError as error:
    print(error)
"""
    out = subprocess.run([sys.executable, '-c', script],
                         cwd=ROOT,
                         check=True,
                         capture_output=True,
                         text=True).stdout
    assert 'onnxruntime' in out
