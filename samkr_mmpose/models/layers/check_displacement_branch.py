# Copyright (c) SAMKR-MMPose Authors. All rights reserved.


def check_displacement_branch(num_keypoints: int,
                              num_channels_per_keypoint: int,
                              num_subspaces: int, num_adaptive_blocks: int,
                              per_keypoint_branches: bool) -> None:
    """Raise a ``ValueError`` naming the numbers of an impossible SAMKR
    displacement branch: eq. 3 splits every branch of ``c`` channels (one
    of ``m = k * c`` without per-keypoint branches) into ``g`` subspaces of
    ``s = c / g`` channels.

    Args:
        num_keypoints (int): Number of keypoints ``k``.
        num_channels_per_keypoint (int): Channels ``c`` per branch.
        num_subspaces (int): Subspaces ``g`` per branch.
        num_adaptive_blocks (int): Number of adaptive blocks.
        per_keypoint_branches (bool): One branch per keypoint or one.
    """
    minimums = dict(
        num_keypoints=(num_keypoints, 1),
        num_channels_per_keypoint=(num_channels_per_keypoint, 1),
        num_subspaces=(num_subspaces, 1),
        num_adaptive_blocks=(num_adaptive_blocks, 0))
    for name, (value, low) in minimums.items():
        is_int = isinstance(value, int) and not isinstance(value, bool)
        if not is_int or value < low:
            raise ValueError(
                f'{name} must be an integer >= {low}, got {value!r}')
    if not isinstance(per_keypoint_branches, bool):
        raise ValueError('per_keypoint_branches must be a bool, got '
                         f'{per_keypoint_branches!r}')
    c, g = num_channels_per_keypoint, num_subspaces
    if per_keypoint_branches and c % g:
        raise ValueError(
            f'num_channels_per_keypoint (c={c}) is not divisible by '
            f'num_subspaces (g={g}): every subspace needs s = c / g '
            'channels')
    if not per_keypoint_branches and (num_keypoints * c) % g:
        raise ValueError(
            f'the single branch of m = num_keypoints x '
            f'num_channels_per_keypoint = {num_keypoints} x {c} channels '
            f'is not divisible by num_subspaces (g={g})')
