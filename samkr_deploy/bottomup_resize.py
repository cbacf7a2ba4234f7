# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
import math
from typing import Dict, Sequence, Tuple

import cv2
import numpy as np

RESIZE_MODES = ('expand', 'fit')


def bottomup_resize(
    img: np.ndarray,
    input_size: Sequence[int],
    size_factor: int = 32,
    resize_mode: str = 'expand',
    pad_val: Sequence[float] = (0, 0, 0)
) -> Tuple[np.ndarray, Dict[str, np.ndarray]]:
    """Resize an image to the network input as MMPose's test-time
    ``BottomupResize`` does (without UDP), in NumPy and OpenCV only.

    With ``'expand'`` the image is scaled so that it covers ``input_size``
    (both sides rounded up to multiples of ``size_factor``), keeping its
    aspect ratio, and centred in an input whose sides are the scaled sides
    rounded up to multiples of ``size_factor``; with ``'fit'`` it is scaled
    to fit in ``input_size`` (which must be such multiples) and centred in
    it. The affine warp is built from the same three point pairs, in the
    same precision, as MMPose's ``get_warp_matrix``, so the input is the
    same to the bit.

    Args:
        img (np.ndarray): Image (H, W, C), as loaded (OpenCV's BGR order).
        input_size (Sequence[int]): The codec's input size (w, h).
        size_factor (int): Input sides are multiples of this. Defaults to
            32.
        resize_mode (str): ``'expand'`` or ``'fit'``. Defaults to
            ``'expand'``.
        pad_val (Sequence[float]): Value of the padded pixels. Defaults to
            (0, 0, 0).

    Returns:
        tuple:
        - input (np.ndarray): The resized and padded image.
        - meta (dict): ``input_size`` (w, h) of the input, and
          ``input_center`` and ``input_scale``, the image region (centre
          and size, float32) that the input covers, as MMPose's metainfo.
    """
    if img.size == 0:
        raise ValueError(f'the image has no pixels: shape {img.shape}')
    if resize_mode not in RESIZE_MODES:
        raise ValueError(f'Unknown resize_mode {resize_mode!r}; expected '
                         f'one of {RESIZE_MODES}')
    img_h, img_w = img.shape[:2]
    padded = _ceil_to_multiple(input_size, size_factor)
    ratio = img_w / img_h
    if resize_mode == 'fit' and padded != tuple(input_size):
        raise ValueError(
            f"resize_mode='fit' needs an input_size that is a multiple of "
            f'size_factor ({size_factor}), got {tuple(input_size)}')
    # 'fit' fits the image in the input, 'expand' covers the input with it
    bound = min if resize_mode == 'fit' else max
    actual_w = bound(padded[0], padded[1] * ratio)
    actual = (actual_w, bound(padded[1], padded[0] / ratio))
    if resize_mode == 'expand':
        padded = _ceil_to_multiple(actual, size_factor)

    center = np.array([img_w / 2, img_h / 2], dtype=np.float32)
    scale = np.array(
        [img_w * padded[0] / actual[0], img_h * padded[1] / actual[1]],
        dtype=np.float32)
    warp = cv2.getAffineTransform(
        _three_points(center, scale[0]),
        _three_points(
            np.array(padded, dtype=np.float64) / 2, float(padded[0])))
    resized = cv2.warpAffine(
        img, warp, padded, flags=cv2.INTER_LINEAR, borderValue=pad_val)
    return resized, dict(
        input_size=padded, input_center=center, input_scale=scale)


def _ceil_to_multiple(size: Sequence[float], base: int) -> Tuple[int, int]:
    """Round both sides of ``size`` up to multiples of ``base``."""
    return tuple(int(math.ceil(s / base) * base) for s in size)


def _three_points(center: np.ndarray, width: float) -> np.ndarray:
    """The centre of a box, the middle of its left side and that point
    turned by 90 degrees about it, in float32."""
    points = np.zeros((3, 2), dtype=np.float32)
    points[0] = center
    points[1] = center + np.array([width * -0.5, 0.])
    direction = points[0] - points[1]
    points[2] = points[1] + np.array([-direction[1], direction[0]])
    return points
