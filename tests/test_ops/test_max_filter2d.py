# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F

from samkr_mmpose.ops import max_filter2d


@pytest.mark.parametrize('shape', [(2, 3, 17, 23), (1, 4, 1, 9), (1, 1, 2, 2),
                                   (5, 6, 3)])
@pytest.mark.parametrize('kernel_size', [1, 3, 5, 7])
def test_equals_max_pool(shape, kernel_size):
    x = torch.randn(shape, dtype=torch.float64, requires_grad=True)
    y = x.detach().clone().requires_grad_()
    got = max_filter2d(x, kernel_size)
    expected = F.max_pool2d(y, kernel_size, 1, kernel_size // 2)
    assert torch.equal(got, expected)
    # without ties both give each output's gradient to its maximum
    weights = torch.randn(shape, dtype=torch.float64)
    (got * weights).sum().backward()
    (expected * weights).sum().backward()
    torch.testing.assert_close(x.grad, y.grad, rtol=0, atol=1e-12)


@pytest.mark.parametrize('kernel_size', [0, 2, -3])
def test_even_or_empty_kernel_raises(kernel_size):
    with pytest.raises(ValueError, match=f'got {kernel_size}'):
        max_filter2d(torch.zeros(1, 1, 4, 4), kernel_size)
