# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from typing import Dict, List

from torch import Tensor


def state_dict_differences(ours: Dict[str, Tensor], theirs: Dict[str, Tensor],
                           under: str) -> List[str]:
    """The keys of two state dicts whose shapes differ, and those under
    ``under`` that only one of them has, one line each.

    Args:
        ours (Dict[str, Tensor]): The model's state dict.
        theirs (Dict[str, Tensor]): The checkpoint's state dict.
        under (str): The prefix of the keys both must have.

    Returns:
        List[str]: E.g. ``'x.weight: (4, 2) in the checkpoint, (8, 2)
        here'`` or ``'x.bias: only in this head'``.
    """
    differences = [
        f'{key}: {tuple(theirs[key].shape)} in the checkpoint, '
        f'{tuple(ours[key].shape)} here'
        for key in sorted(ours.keys() & theirs.keys())
        if ours[key].shape != theirs[key].shape
    ]
    for keys, where in ((theirs.keys() - ours.keys(), 'the checkpoint'),
                        (ours.keys() - theirs.keys(), 'this head')):
        differences += [
            f'{key}: only in {where}' for key in sorted(keys)
            if key.startswith(under)
        ]
    return differences
