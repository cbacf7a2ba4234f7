# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
import pytest

from mmpose.registry import MODELS
from samkr_mmpose.models.layers import DisplacementBranchLayout
from samkr_mmpose.models.utils import check_samkr_state_dict

BRANCH = DisplacementBranchLayout(1).prefix(head='head.')


def head_state(**kwargs):
    """The state dict of a head under ``head.``, as in a checkpoint."""
    cfg = dict(type='SAMKRHead', in_channels=8, num_keypoints=17, **kwargs)
    return {f'head.{k}': v for k, v in MODELS.build(cfg).state_dict().items()}


def ours():
    return MODELS.build(
        dict(type='SAMKRHead', in_channels=8, num_keypoints=17)).state_dict()


def test_same_config_and_dekr_pass():
    check_samkr_state_dict(ours(), head_state(), 'head.', BRANCH, {})
    dekr = MODELS.build(
        dict(type='DEKRHead', in_channels=8, num_keypoints=17)).state_dict()
    theirs = {f'head.{k}': v for k, v in dekr.items()}
    check_samkr_state_dict(ours(), theirs, 'head.', BRANCH, {})


def test_other_config_raises_with_every_difference():
    theirs = head_state(num_adaptive_blocks=2, num_subspaces=4)
    with pytest.raises(ValueError) as error:
        check_samkr_state_dict(ours(), theirs, 'head.', BRANCH,
                               dict(num_subspaces=8, num_adaptive_blocks=1))
    message = str(error.value)
    assert message.startswith('the checkpoint holds a SAMKR head of another '
                              'configuration than this one (num_subspaces=8, '
                              'num_adaptive_blocks=1):\n')
    lines = message.split('\n')[1:-1]
    # block 2 of theirs sits where our attention (index 2) does
    assert f'{BRANCH}2.adapt_conv.weight: only in the checkpoint' in lines
    assert f'{BRANCH}2.pointwise.conv.weight: only in this head' in lines
    assert f'{BRANCH}3.pointwise.conv.weight: only in the checkpoint' in lines
    assert all(line.startswith(BRANCH) for line in lines)
