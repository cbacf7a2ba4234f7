# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from typing import List


def input_scales(metainfo: dict, num_inputs: int) -> List[float]:
    """The input scales of a multi-scale test: 1 (the input size), then
    ``metainfo['aug_scales']`` as ``BottomupResize(aug_scales=[...])``
    sets them.

    Args:
        metainfo (dict): The metainfo of the data sample.
        num_inputs (int): Number of inputs (features or heatmaps).

    Returns:
        List[float]: The scale of every input.
    """
    aug_scales = metainfo.get('aug_scales', None)
    if not isinstance(aug_scales, list) or not all(
            isinstance(s, (int, float)) and not isinstance(s, bool) and s > 0
            for s in aug_scales):
        raise ValueError(
            'multiscale_test needs metainfo["aug_scales"], the list of '
            'positive extra input scales set by BottomupResize('
            'aug_scales=[...]) (add "aug_scales" to the meta_keys of '
            f'the packing transform), got {aug_scales!r}')
    if num_inputs != len(aug_scales) + 1:
        raise ValueError(
            f'multiscale_test got {num_inputs} inputs for the input size '
            f'and aug_scales={aug_scales}, expected {len(aug_scales) + 1}')
    return [1.] + [float(s) for s in aug_scales]
