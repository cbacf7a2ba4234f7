# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
import numpy as np


def grid_sample(maps: np.ndarray,
                grid_x: np.ndarray,
                grid_y: np.ndarray,
                align_corners: bool = False) -> np.ndarray:
    """Bilinear sampling with border padding, PyTorch's ``grid_sample``
    (``mode='bilinear'``, ``padding_mode='border'``) in NumPy.

    A normalised coordinate ``g`` in [-1, 1] is the pixel
    ``(g + 1) * (size - 1) / 2`` with ``align_corners``, else
    ``(g + 1) * size / 2 - 1/2``, clipped to ``[0, size - 1]`` (NaN to
    0); neighbours past the last pixel weigh nothing. The float32
    arithmetic is that of PyTorch's vectorised CPU kernel as x86-64 builds
    run it, with fused multiply-adds (emulated in float64), so that the
    results agree to the bit there.

    Args:
        maps (np.ndarray): Maps (C, H, W), float32.
        grid_x (np.ndarray): Normalised x, broadcastable to (C, ...) with
            ``grid_y``.
        grid_y (np.ndarray): Normalised y.
        align_corners (bool): Whether -1 and 1 are the centres of the
            corner pixels (else their outer edges). Defaults to ``False``.

    Returns:
        np.ndarray: The sampled values (C, ...), float32.
    """
    channels, height, width = maps.shape
    coords = []
    for grid, size in ((grid_x, width), (grid_y, height)):
        shifted = np.asarray(grid, dtype=np.float32) + np.float32(1)
        if align_corners:
            coord = shifted * np.float32((size - 1) / 2)
        else:
            coord = _fma(shifted, np.float32(size / 2), np.float32(-0.5))
        # fmax: NaN becomes 0, as in PyTorch's kernel
        coords.append(np.minimum(np.fmax(coord, 0), size - 1))
    x, y = np.broadcast_arrays(*coords)
    x_low, y_low = np.floor(x), np.floor(y)
    frac_x, frac_y = x - x_low, y - y_low
    weights_x, weights_y = (1 - frac_x, frac_x), (1 - frac_y, frac_y)
    channel = np.arange(channels).reshape((-1, ) + (1, ) * (x.ndim - 1))
    values = None
    # the corners in the kernel's order of summation: nw, ne, sw, se
    for dy in (0, 1):
        for dx in (0, 1):
            row = y_low.astype(np.int64) + dy
            col = x_low.astype(np.int64) + dx
            value = np.where((row < height) & (col < width),
                             maps[channel,
                                  np.minimum(row, height - 1),
                                  np.minimum(col, width - 1)], 0)
            weight = weights_y[dy] * weights_x[dx]
            values = value * weight if values is None else _fma(
                value, weight, values)
    return values.astype(np.float32)


def _fma(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``a * b + c`` rounded once to float32 (the float64 product of two
    float32 numbers is exact)."""
    return (np.asarray(a, np.float64) * b + c).astype(np.float32)
