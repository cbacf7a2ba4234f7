# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
import importlib
import time
from unittest import mock

import pytest
import torch
from helpers import assert_close
from mmcv.ops import DeformConv2d

from samkr_mmpose import MultiBackendDeformConv2d
from samkr_mmpose.ops import (deform_conv2d, deform_conv2d_torch,
                              resolve_backend)
from samkr_mmpose.ops.fastest_backend import measure_backends

# in, out, groups, deform_groups, stride, padding, dilation, height, width
CASES = [
    (8, 8, 1, 1, 1, 1, 1, 7, 9),
    (34, 34, 17, 17, 1, 1, 1, 6, 5),
    (12, 6, 3, 2, 2, 0, 1, 9, 8),
    (8, 4, 2, 4, 1, 2, 2, 8, 8),
    (4, 4, 1, 1, 1, 1, 1, 1, 1),
]


def make_inputs(case, dtype):
    cin, cout, groups, dgroups, stride, pad, dil, h, w = case
    ref = DeformConv2d(cin, cout, 3, stride, pad, dil, groups, dgroups)
    ref = ref.to(dtype)
    x = torch.randn(2, cin, h, w, dtype=dtype)
    ho = (h + 2 * pad - dil * 2 - 1) // stride + 1
    wo = (w + 2 * pad - dil * 2 - 1) // stride + 1
    # up to 3 px: many taps land between pixels and some outside the image
    offset = torch.randn(2, dgroups * 18, ho, wo, dtype=dtype) * 1.5
    return ref, x, offset


def run(conv, x, offset):
    x = x.clone().requires_grad_()
    offset = offset.clone().requires_grad_()
    conv.zero_grad()
    out = conv(x, offset)
    (out * torch.linspace(-1, 1, out.numel(),
                          dtype=out.dtype).view_as(out)).sum().backward()
    return out, x.grad, offset.grad, conv.weight.grad


@pytest.mark.parametrize('case', CASES)
@pytest.mark.parametrize('backend', ['mmcv', 'torchvision', 'torch'])
@pytest.mark.parametrize('dtype,tol', [(torch.float64, 1e-10),
                                       (torch.float32, 1e-4)])
def test_backends_match_mmcv_deform_conv(case, backend, dtype, tol):
    ref, x, offset = make_inputs(case, dtype)
    conv = MultiBackendDeformConv2d(
        *case[:2], 3, *case[4:7], case[2], case[3], backend=backend)
    conv.load_state_dict(ref.state_dict())
    conv = conv.to(dtype)

    expected = run(ref, x, offset)
    actual = run(conv, x, offset)
    for name, a, e in zip(
        ('output', 'input grad', 'offset grad', 'weight grad'), actual,
            expected):
        assert a.shape == e.shape, name
        assert_close(a, e, tol)


def test_functional_matches_module():
    ref, x, offset = make_inputs(CASES[1], torch.float64)
    out = deform_conv2d(
        x,
        offset,
        ref.weight,
        groups=17,
        deform_groups=17,
        padding=(1, 1),
        backend='torch')
    assert_close(out, ref(x, offset), 1e-10)


def test_zero_offsets_are_a_regular_convolution():
    conv = MultiBackendDeformConv2d(
        6, 4, 3, padding=1, groups=2, backend='torch')
    x = torch.randn(1, 6, 5, 7)
    out = conv(x, torch.zeros(1, 18, 5, 7))
    expected = torch.nn.functional.conv2d(x, conv.weight, padding=1, groups=2)
    assert_close(out, expected, 1e-5)


def test_auto_backend_and_unknown_backend():
    assert resolve_backend('auto', torch.device('cpu')) == 'torch'
    assert resolve_backend('auto', torch.device('cuda')) == 'torchvision'
    assert resolve_backend('mmcv', torch.device('cpu')) == 'mmcv'
    with pytest.raises(ValueError, match="'cudnn'"):
        MultiBackendDeformConv2d(4, 4, 3, backend='cudnn')


@pytest.mark.parametrize('backend', ['mmcv', 'torchvision', 'torch'])
@pytest.mark.parametrize('kind', ['zero', 'integer'])
def test_offsets_on_the_pixel_grid(backend, kind):
    """On-grid samples: outputs and input/weight gradients still agree (the
    offset gradient is one-sided at the kink of bilinear interpolation)."""
    ref, x, offset = make_inputs(CASES[1], torch.float64)
    offset = offset.zero_() if kind == 'zero' else offset.round()
    conv = MultiBackendDeformConv2d(
        34, 34, 3, padding=1, groups=17, deform_groups=17, backend=backend)
    conv.load_state_dict(ref.state_dict())
    expected, actual = run(ref, x, offset), run(conv.double(), x, offset)
    for index in (0, 1, 3):
        assert_close(actual[index], expected[index], 1e-10)


@pytest.mark.parametrize('backend', ['mmcv', 'torchvision', 'torch'])
def test_channels_last(backend):
    ref, x, offset = make_inputs(CASES[1], torch.float32)
    conv = MultiBackendDeformConv2d(
        34, 34, 3, padding=1, groups=17, deform_groups=17, backend=backend)
    conv.load_state_dict(ref.state_dict())
    expected = conv(x, offset)
    conv = conv.to(memory_format=torch.channels_last)
    out = conv(
        x.contiguous(memory_format=torch.channels_last),
        offset.contiguous(memory_format=torch.channels_last))
    assert_close(out, expected, 1e-5)


def test_int_arguments_and_autocast():
    ref, x, offset = make_inputs(CASES[3], torch.float32)
    expected = ref(x, offset)
    out = deform_conv2d(x, offset, ref.weight, 1, 2, 2, 2, 4, backend='torch')
    assert_close(out, expected, 1e-5)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        low = deform_conv2d(x, offset, ref.weight, 1, 2, 2, 2, 4)
    assert low.dtype == torch.bfloat16
    assert_close(low.float(), expected, 3e-2)


@pytest.mark.parametrize('size,message', [
    ((1, 36, 5, 6), r'offset has shape \(1, 36, 5, 6\), expected '
     r'\(1, 36, 5, 5\)'),
    ((1, 18, 5, 5), r'expected \(1, 36, 5, 5\)'),
])
def test_wrong_offset_shape_raises(size, message):
    x, weight = torch.randn(1, 8, 5, 5), torch.randn(8, 4, 3, 3)
    with pytest.raises(ValueError, match=message):
        deform_conv2d(
            x,
            torch.zeros(size),
            weight,
            padding=1,
            groups=2,
            deform_groups=2,
            backend='torch')


def test_auto_dispatches_to_torch_kernel_on_cpu():
    ref, x, offset = make_inputs(CASES[0], torch.float32)
    conv = MultiBackendDeformConv2d(8, 8, 3, padding=1)
    with mock.patch(
            'samkr_mmpose.ops.deform_conv2d.deform_conv2d_torch',
            wraps=deform_conv2d_torch) as kernel:
        conv(x, offset)
    kernel.assert_called_once()


def test_mmcv_backend_takes_any_batch_size():
    """mmcv's kernel needs a batch its im2col step divides; 33 is not."""
    x, offset = torch.randn(33, 4, 3, 3), torch.randn(33, 18, 3, 3)
    weight = torch.randn(4, 4, 3, 3)
    out = deform_conv2d(x, offset, weight, padding=1, backend='mmcv')
    expected = deform_conv2d(x, offset, weight, padding=1, backend='torch')
    assert_close(out, expected, 1e-5)


@pytest.fixture
def measured_on_cpu(monkeypatch):
    """``'auto'`` timing the kernels on CPU too, with an empty cache; yields
    the list of the candidate sets it measured."""
    module = importlib.import_module('samkr_mmpose.ops.deform_conv2d')
    tuner = importlib.import_module('samkr_mmpose.ops.fastest_backend')
    monkeypatch.setattr(module, 'MEASURED_DEVICE_TYPES', ('cpu', ))
    monkeypatch.setattr(tuner, '_CHOICES', {})
    measured = []
    measure = tuner.measure_backends

    def counting(run, candidates, device, runs=3):
        times = measure(run, candidates, device, runs)
        measured.append(times)
        return times

    monkeypatch.setattr(tuner, 'measure_backends', counting)
    yield measured


def test_auto_takes_the_fastest_measured_kernel_once(measured_on_cpu):
    conv = MultiBackendDeformConv2d(8, 8, 3, padding=1, backend='auto')
    x, offset = torch.randn(1, 8, 6, 6), torch.randn(1, 18, 6, 6)
    with torch.no_grad():
        out = conv(x, offset)
        conv(x, offset)
    (times, ) = measured_on_cpu
    assert set(times) == {'torch', 'torchvision', 'mmcv'}
    fastest = min(times, key=times.get)
    expected = deform_conv2d(
        x, offset, conv.weight.detach(), 1, 1, backend=fastest)
    assert torch.equal(out, expected)

    # another shape, and gradients, are other measurements
    conv(torch.randn(1, 8, 5, 6), torch.randn(1, 18, 5, 6))
    conv(x, offset).sum().backward()
    assert len(measured_on_cpu) == 3
    assert conv.weight.grad is not None


def test_auto_does_not_measure_while_compiling(measured_on_cpu):
    conv = MultiBackendDeformConv2d(8, 8, 3, padding=1, backend='auto')
    x, offset = torch.randn(1, 8, 6, 6), torch.randn(1, 18, 6, 6)
    compiled = torch.compile(conv, fullgraph=True, backend='eager')
    with torch.no_grad():
        out = compiled(x, offset)
    assert measured_on_cpu == []
    expected = deform_conv2d(x, offset, conv.weight, 1, 1, backend='torch')
    assert torch.equal(out, expected)


def test_measure_backends_ranks_by_time():
    delays = {'slow': 0.02, 'fast': 0.0}
    times = measure_backends(lambda b: time.sleep(delays[b]), list(delays),
                             torch.device('cpu'))
    assert min(times, key=times.get) == 'fast'
    assert times['slow'] >= 0.02
