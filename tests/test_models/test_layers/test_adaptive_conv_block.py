# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
import pytest
import torch
from helpers import assert_close

from mmpose.models.heads.hybrid_heads.dekr_head import AdaptiveActivationBlock
from samkr_mmpose import AdaptiveConvBlock

# the regular 3x3 grid G_t of the paper, (dy, dx) of each tap in mmcv order
GRID = torch.tensor([[-1., -1, -1, 0, 0, 0, 1, 1, 1],
                     [-1., 0, 1, -1, 0, 1, -1, 0, 1]])


def dekr_block(channels, groups, dtype):
    block = AdaptiveActivationBlock(channels, channels, groups=groups)
    # offsets of a few pixels, so that sampling is really deformed
    block.transform_matrix_conv.weight.data.normal_(0, 0.05)
    block.transform_matrix_conv.bias.data.normal_(0, 0.5)
    block.norm.running_mean.uniform_(-0.5, 0.5)
    block.norm.running_var.uniform_(0.5, 2)
    return block.to(dtype)


@pytest.mark.parametrize('backend', ['mmcv', 'torchvision', 'torch'])
@pytest.mark.parametrize('channels,groups', [(34, 17), (16, 1), (24, 8)])
@pytest.mark.parametrize('training', [True, False])
def test_dekr_weights_give_dekr_outputs(backend, channels, groups, training):
    dtype = torch.float64
    ref = dekr_block(channels, groups, dtype).train(training)
    block = AdaptiveConvBlock(channels, channels, groups, backend=backend)
    block.load_state_dict(ref.state_dict(), strict=True)
    block = block.to(dtype).train(training)

    x = torch.randn(2, channels, 7, 6, dtype=dtype)
    x_ref = x.clone().requires_grad_()
    x.requires_grad_()
    out, out_ref = block(x), ref(x_ref)
    assert_close(out, out_ref, 1e-10)

    weights = torch.randn_like(out)
    (out * weights).sum().backward()
    (out_ref * weights).sum().backward()
    assert_close(x.grad, x_ref.grad, 1e-9)
    for name, param in block.named_parameters():
        assert_close(param.grad, ref.get_parameter(name).grad, 1e-9)


def captured_offsets(block, x):
    captured = {}
    handle = block.adapt_conv.register_forward_hook(
        lambda module, args, out: captured.update(offset=args[1]))
    block(x)
    handle.remove()
    return captured['offset']


def test_offsets_follow_paper_eq_7_8():
    """With a constant transform M = [M2 | t], the offsets are the paper's
    A G_t - G_t + t with A = M2 + I (eq. 7), per tap (dy, dx) (eq. 8)."""
    groups = 2
    block = AdaptiveConvBlock(4, 4, groups, backend='torch').eval()
    conv = block.transform_matrix_conv
    conv.weight.data.zero_()
    a = torch.tensor([[[1.2, 0.3], [-0.1, 0.8]], [[0.9, 0.0], [0.2, 1.5]]])
    t = torch.tensor([[0.5, -1.0], [2.0, 0.25]])
    m = torch.cat((a - torch.eye(2), t[..., None]), dim=-1)  # (G, 2, 3)
    conv.bias.data.copy_(m.flatten())

    offset = captured_offsets(block, torch.randn(1, 4, 5, 5))
    expected = a @ GRID - GRID + t[..., None]  # (G, 2, 9)
    expected = expected.transpose(1, 2).reshape(groups * 18)
    assert torch.allclose(offset[0, :, 2, 3], expected, atol=1e-6)
    assert torch.allclose(offset[0, :, 0, 0], expected, atol=1e-6)


def test_zero_transform_samples_the_regular_grid():
    block = AdaptiveConvBlock(6, 6, 3, backend='torch').eval()
    block.transform_matrix_conv.weight.data.zero_()
    block.transform_matrix_conv.bias.data.zero_()
    x = torch.randn(1, 6, 5, 5)
    assert captured_offsets(block, x).abs().max() == 0
    conv = torch.nn.functional.conv2d(
        x, block.adapt_conv.weight, padding=1, groups=3)
    assert_close(block(x), torch.relu(block.norm(conv) + x), 1e-5)


@pytest.mark.parametrize('args,message', [
    ((34, 34, 4), r'in_channels \(34\).*groups \(4\)'),
    ((34, 17, 17), r'out_channels \(17\).*in_channels \(34\)'),
    ((16, 16, 0), r'groups \(0\)'),
])
def test_bad_channels_raise(args, message):
    with pytest.raises(ValueError, match=message):
        AdaptiveConvBlock(*args)
