# Copyright (c) SAMKR-MMPose Authors. All rights reserved.


def check_num_keypoints(num_keypoints: int, found: object, what: str) -> None:
    """Raise a ``ValueError`` when data of another number of keypoints than
    the head's meets it, e.g. a COCO head (17) trained on CrowdPose (14),
    which would otherwise fail later with an error about tensor sizes.

    Args:
        num_keypoints (int): The head's number of keypoints.
        found (object): The number (or numbers) of keypoints of the data.
        what (str): What has them, e.g. ``'the training targets have'``.
    """
    if found != num_keypoints:
        raise ValueError(
            f'{what} {found} keypoints, but the head predicts num_keypoints='
            f'{num_keypoints}: the head must have as many keypoints as the '
            'dataset (e.g. not a COCO head with CrowdPose data)')
