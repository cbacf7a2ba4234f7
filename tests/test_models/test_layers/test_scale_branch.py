# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
import torch

from samkr_mmpose.models.layers import ScaleBranch


def test_keys_depthwise_and_zero_start():
    branch = ScaleBranch(8, 17)
    assert set(branch.state_dict()) == {
        '0.conv.weight', '0.bn.weight', '0.bn.bias', '0.bn.running_mean',
        '0.bn.running_var', '0.bn.num_batches_tracked', '1.weight', '1.bias'
    }
    assert branch[1].weight.shape == (17, 1, 9, 9)
    feats = torch.randn(2, 8, 12, 10)
    assert branch(feats).abs().amax() > 0
    branch.init_weights()
    scales = branch(feats)
    assert scales.shape == (2, 17, 12, 10)
    assert torch.equal(scales, torch.zeros_like(scales))
    assert branch[0].conv.weight.abs().amax() > 0
