# Copyright (c) SAMKR-MMPose Authors. All rights reserved.


def check_keypoint_annotation(ann: dict, num_keypoints: int,
                              ann_file: str) -> None:
    """Check one person annotation of a COCO-style keypoint file, and raise
    a ``ValueError`` naming the annotation, its image and the file where it
    is unusable.

    MMPose's COCO-style datasets skip an annotation without ``keypoints``
    or ``bbox`` silently and reshape ``keypoints`` to however many
    keypoints it holds; this check wants both, and exactly
    ``num_keypoints`` (x, y, visibility) triplets.

    Args:
        ann (dict): The annotation, as in the file's ``annotations``.
        num_keypoints (int): The dataset's number of keypoints.
        ann_file (str): The annotation file, for the message.
    """
    where = (f'annotation {ann.get("id")!r} of image '
             f'{ann.get("image_id")!r} in {ann_file}')
    for key in ('keypoints', 'bbox'):
        if key not in ann:
            raise ValueError(f'{where} has no {key!r}')
    keypoints = ann['keypoints']
    if not isinstance(keypoints, list):
        raise ValueError(f'{where} has keypoints={keypoints!r}, not a list')
    if len(keypoints) != 3 * num_keypoints:
        raise ValueError(
            f'{where} has {len(keypoints)} keypoint values, expected (x, y, '
            f'visibility) of each of the dataset\'s {num_keypoints} '
            f'keypoints: 3 x {num_keypoints} = {3 * num_keypoints}')
