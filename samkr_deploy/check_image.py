# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
import numpy as np


def check_image(img: np.ndarray) -> None:
    """Check that an image is what :class:`OnnxBottomupPoseEstimator`
    takes: a non-empty 8-bit (H, W, 3) array, as ``cv2.imread`` gives.

    A float image would be normalised as if its values were 0-255: one in
    [0, 1] would give scores about 1000x lower, silently, so it is refused.

    Args:
        img (np.ndarray): The image.

    Raises:
        ValueError: Naming the type, shape or dtype that is not taken.
    """
    if not isinstance(img, np.ndarray):
        raise ValueError(
            f'the image must be a numpy array, got {type(img).__name__}')
    if img.size == 0:
        raise ValueError(f'the image has no pixels: shape {img.shape}')
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError('the image must be (H, W, 3) BGR, got shape '
                         f'{img.shape}')
    if img.dtype != np.uint8:
        raise ValueError(
            f'the image must be uint8 (0-255, as cv2.imread gives), got '
            f'{img.dtype}; convert it, e.g. (img * 255).astype(np.uint8) '
            'for values in [0, 1]')
