# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Numerics: mixed-precision training (``tools/train.py --amp``, bfloat16
autocast on a CPU) stays finite and learns, and the subspace attention's
softmax is stable for large activations in float32, bfloat16 and float16.
"""
import os
import os.path as osp
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from helpers import ROOT, TINY_CONFIG, shrink_options, spr_codec
from mmengine.config import Config
from mmengine.runner import CheckpointLoader
from mmengine.structures import PixelData

from mmpose.registry import KEYPOINT_CODECS, MODELS
from mmpose.structures import PoseDataSample
from samkr_mmpose.datasets import (generate_synthetic_crowd,
                                   render_synthetic_image)
from samkr_mmpose.engine import CPUAmpOptimWrapper
from samkr_mmpose.models import SubspaceAttention
from samkr_mmpose.ops import max_filter2d

CONFIG = osp.join(ROOT, 'configs', 'samkr',
                  'samkr_hrnet-w32_8xb10-140e_coco-512x512.py')
INPUT = 64


def synthetic_batches(num_batches: int, batch_size: int) -> list:
    """Batches of rendered people with their SPR targets, as the data
    preprocessor takes them."""
    codec = KEYPOINT_CODECS.build(spr_codec(INPUT, INPUT // 4))
    rng = np.random.default_rng(0)
    batches = []
    for _ in range(num_batches):
        inputs, samples = [], []
        for _ in range(batch_size):
            img, keypoints, _ = render_synthetic_image(
                rng, (INPUT, INPUT), person_height=(0.5, 0.9))
            # the first 17 joints are COCO's keypoints
            encoded = codec.encode(keypoints[:, :17, :2],
                                   (keypoints[:, :17, 2]
                                    > 0).astype(np.float32))
            sample = PoseDataSample(metainfo=dict(input_size=(INPUT, INPUT)))
            sample.gt_fields = PixelData(**{
                k: torch.from_numpy(v)
                for k, v in encoded.items()
            })
            inputs.append(torch.from_numpy(img).permute(2, 0, 1))
            samples.append(sample)
        batches.append(dict(inputs=inputs, data_samples=samples))
    return batches


def test_bf16_training_on_cpu(tmp_path, one_thread):
    """200 steps of the tiny SAMKR model (SWAHR losses) with the optimiser
    wrapper ``tools/train.py --amp`` uses on a CPU."""
    cfg_file = tmp_path / 'tiny.py'
    cfg_file.write_text(TINY_CONFIG)
    cfg = Config.fromfile(str(cfg_file))
    cfg.model.head.rescore_cfg = None
    model = MODELS.build(cfg.model).train()
    wrapper = CPUAmpOptimWrapper(
        optimizer=torch.optim.Adam(model.parameters(), lr=2e-3))

    dtypes = set()
    model.backbone.conv1.register_forward_hook(
        lambda module, args, output: dtypes.add(output.dtype))
    batches = synthetic_batches(2, 2)
    losses = []
    for step in range(200):
        log_vars = model.train_step(batches[step % 2], wrapper)
        values = {k: float(v.detach()) for k, v in log_vars.items()}
        assert all(np.isfinite(v) for v in values.values()), (step, values)
        losses.append(values['loss'])

    assert dtypes == {torch.bfloat16}
    assert all(torch.isfinite(p).all() for p in model.parameters())
    # after the first steps' fall the loss keeps falling
    early, last = np.mean(losses[20:40]), np.mean(losses[-20:])
    assert last < 0.5 * early, (early, last)


def test_train_tool_amp_on_cpu(tmp_path):
    """``tools/train.py --amp`` on a machine without a GPU trains under
    bfloat16 autocast, and its checkpoint loads weights-only."""
    root = str(tmp_path / 'data')
    ann_file = generate_synthetic_crowd(
        root, 2, 'val', 'coco', image_size=(INPUT, INPUT))
    options = shrink_options(INPUT)
    del options['param_scheduler']
    options.update({
        'train_dataloader.batch_size': 2,
        'train_cfg.max_epochs': 1,
        'train_cfg.val_interval': 5,
        'val_evaluator.ann_file': ann_file,
        'test_evaluator.ann_file': ann_file,
    })
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options[f'{loader}.dataset.data_root'] = root
        options[f'{loader}.dataset.ann_file'] = osp.relpath(ann_file, root)
        options[f'{loader}.dataset.data_prefix.img'] = 'val2017/'
    work_dir = str(tmp_path / 'work')
    result = subprocess.run(
        [
            sys.executable, 'tools/train.py', CONFIG, '--work-dir', work_dir,
            '--amp', '--cfg-options', *[
                f'{key}={value!r}'.replace("'", '')
                for key, value in options.items()
            ]
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        # a machine with a GPU would train in float16 instead
        env=dict(os.environ, CUDA_VISIBLE_DEVICES='', PYTHONWARNINGS='ignore'))
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert "type='CPUAmpOptimWrapper'" in log
    loss, = re.findall(r'Epoch\(train\) \[1\]\[1/1\].* loss: (\S+)', log)
    assert np.isfinite(float(loss))
    checkpoint = CheckpointLoader.load_checkpoint(
        osp.join(work_dir, 'epoch_1.pth'), map_location='cpu')
    assert checkpoint['meta']['epoch'] == 1


@pytest.mark.parametrize('dtype, tol', [(None, 1e-6), (torch.bfloat16, 2**-7),
                                        (torch.float16, 2**-10)])
def test_subspace_attention_softmax_is_stable(dtype, tol):
    """Inputs scaled by 1e4 give attention logits in the hundreds, where a
    softmax without subtracting the maximum overflows: the module's output
    is ``x + x * softmax(logits)`` with the float64 softmax of its own
    logits, under autocast to ``dtype`` (``None``: float32)."""
    module = SubspaceAttention(16, 4).eval()
    for conv in (module.depthwise.conv, module.pointwise.conv):
        torch.nn.init.normal_(conv.weight, std=0.1)
    x = torch.randn(2, 16, 12, 12) * 1e4
    logits = []
    module.pointwise.register_forward_hook(
        lambda m, args, output: logits.append(output))
    with torch.autocast(
            'cpu', dtype=dtype or torch.bfloat16, enabled=dtype is not None):
        out = module(x)

    assert logits[0].dtype == (dtype or torch.float32)
    logits = logits[0].double().flatten(2)
    assert logits.max() > 200
    naive = logits.float().exp()
    assert not torch.isfinite(naive / naive.sum(-1, keepdim=True)).all()
    maps = logits.softmax(-1).view(2, 4, 1, 12, 12)
    expected = x.double().view(2, 4, 4, 12, 12) * (1 + maps)
    assert torch.isfinite(out).all()
    error = (out.double() - expected.view_as(x)).abs().max()
    assert error <= tol * expected.abs().max(), error


def test_subspace_attention_float32_matches_float64():
    """End to end: float32 with inputs scaled by 1e4 against the module
    run in float64."""
    module = SubspaceAttention(16, 4).eval()
    for conv in (module.depthwise.conv, module.pointwise.conv):
        torch.nn.init.normal_(conv.weight, std=0.1)
    x = torch.randn(2, 16, 12, 12) * 1e4
    out = module(x)
    with torch.no_grad():
        maps = module.pointwise(max_filter2d(module.depthwise(x), 3))
    assert maps.flatten(2).softmax(-1).max() > 0.99
    reference = module.double()(x.double())
    error = (out.double() - reference).abs().max()
    assert error <= 1e-6 * reference.abs().max(), error
