# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from typing import Sequence

# the longest network input side predicted, by this package and by
# samkr_mmpose's BatchedBottomupPoseEstimator
MAX_INPUT_SIDE = 4096


def check_input_size(input_size: Sequence[int],
                     img_shape: Sequence[int],
                     max_side: int = MAX_INPUT_SIDE) -> None:
    """Refuse a network input longer than ``max_side``.

    ``BottomupResize`` scales an image until it covers the codec's input
    size, so a very thin image (e.g. 1x150) becomes an input of tens of
    thousands of pixels and runs out of memory.

    Args:
        input_size (Sequence[int]): The input size (w, h).
        img_shape (Sequence[int]): The image's (h, w), for the message.
        max_side (int): The longest side taken. Defaults to
            :data:`MAX_INPUT_SIDE`.

    Raises:
        ValueError: Naming both sizes.
    """
    if max(input_size) > max_side:
        raise ValueError(
            f'the image of (h, w) {tuple(img_shape)} gives a network input '
            f'of (w, h) {tuple(input_size)}, longer than {max_side} px; '
            'crop or pad the image to a less extreme aspect ratio')
