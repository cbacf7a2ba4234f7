# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from typing import Optional

import numpy as np

from mmpose.datasets.transforms import LoadImage
from mmpose.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadAnyImage(LoadImage):
    """MMPose's :class:`LoadImage`, converting an image array to 8-bit BGR
    as OpenCV reads an image file (with the default ``color_type``).

    :class:`LoadImage` reads grayscale, BGRA and 16-bit files as 8-bit BGR
    images but passes arrays through: a grayscale array then fails with an
    ``IndexError`` in the data preprocessor, and a 16-bit one is normalised
    as if it were 8-bit, giving meaningless poses silently. Here an array
    ``results['img']`` is converted first:

    - grayscale, ``(H, W)`` or ``(H, W, 1)``: the gray level in all three
      channels;
    - BGRA, ``(H, W, 4)``: the alpha channel is dropped;
    - ``uint16``: the 8 high bits are kept;
    - ``uint8`` and floating point (taken as 0-255) stay as they are.

    Other arrays (no pixels, other shapes or dtypes) raise a ``ValueError``
    naming their shape or dtype, and so do floating-point arrays with
    values outside [0, 255] or all in [0, 1] (not all 0): those are scaled to
    [0, 1] most likely, and would give keypoint scores about 1000x lower
    silently. Image files are read as by
    :class:`LoadImage`; the arguments are its.
    """

    def transform(self, results: dict) -> Optional[dict]:
        """Convert an image array, then load as :class:`LoadImage`.

        Args:
            results (dict): The result dict, with ``img`` or ``img_path``.

        Returns:
            dict: The result dict.
        """
        img = results.get('img', None)
        if img is None:
            results.pop('img', None)
            return super().transform(results)
        if not isinstance(img, np.ndarray):
            raise ValueError(f'the image must be a numpy array, got '
                             f'{type(img).__name__}')
        if img.size == 0:
            raise ValueError(f'the image has no pixels: shape {img.shape}')
        if np.issubdtype(img.dtype, np.floating):
            _check_float_range(img)
        if img.dtype == np.uint16:
            img = (img >> 8).astype(np.uint8)
        elif img.dtype != np.uint8 and not np.issubdtype(
                img.dtype, np.floating):
            raise ValueError('the image must be uint8, uint16 or floating '
                             f'point, got {img.dtype}')
        if img.ndim == 2:
            img = img[..., None]
        if img.ndim != 3 or img.shape[2] not in (1, 3, 4):
            raise ValueError(
                'the image must be (H, W) grayscale or (H, W, C) with 1, 3 '
                f'or 4 channels, got shape {img.shape}')
        if img.shape[2] == 1:
            img = np.repeat(img, 3, axis=2)
        results['img'] = np.ascontiguousarray(img[..., :3])
        return super().transform(results)


def _check_float_range(img: np.ndarray) -> None:
    """Refuse a float image that is not in 0-255 or looks scaled to [0, 1].
    """
    low, high = float(img.min()), float(img.max())
    if not (0 <= low and high <= 255):
        raise ValueError('a floating-point image must have values in '
                         f'[0, 255], got [{low}, {high}]')
    if 0 < high <= 1:
        raise ValueError(
            f'the floating-point image has values in [{low}, {high}]: '
            'scaled to [0, 1]? The model takes 0-255; pass img * 255 or '
            'a uint8 image')
