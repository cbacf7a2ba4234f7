# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from typing import Dict

from torch import Tensor

from .state_dict_differences import state_dict_differences


def check_samkr_state_dict(ours: Dict[str, Tensor], theirs: Dict[str, Tensor],
                           prefix: str, branch: str,
                           config: Dict[str, object]) -> None:
    """Raise a ``ValueError`` listing the differences when ``theirs`` holds
    a SAMKR head (subspace attention weights under ``branch``) of another
    configuration than the head of ``ours``, which mmengine's non-strict
    loading would skip with a warning. Another head's state dict, such as
    DEKR's, passes.

    Args:
        ours (Dict[str, Tensor]): The head's own state dict.
        theirs (Dict[str, Tensor]): The state dict being loaded.
        prefix (str): The prefix of the head's keys in ``theirs``.
        branch (str): The prefix of the displacement branch's keys in
            ``theirs``.
        config (Dict[str, object]): The head's settings, named in the
            error.
    """
    # the attention's index depends on the config, its name does not
    if not any(
            key.startswith(branch) and '.pointwise.' in key for key in theirs):
        return
    differences = state_dict_differences(
        {
            prefix + k: v
            for k, v in ours.items()
        }, {
            k: v
            for k, v in theirs.items() if k.startswith(prefix)
        }, branch)
    if differences:
        settings = ', '.join(f'{k}={v}' for k, v in config.items())
        raise ValueError(
            'the checkpoint holds a SAMKR head of another configuration '
            f'than this one ({settings}):\n' + '\n'.join(differences) +
            '\nUse the config it was trained with, or initialise only '
            'the backbone from it: model.backbone.init_cfg=dict('
            "type='Pretrained', prefix='backbone.', checkpoint=...)")
