# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""``tools/publish_model.py``: only ``meta`` and ``state_dict`` are kept,
the file is named ``<config>-<sha256[:8]>_<YYYYMMDD>.pth`` after its own
bytes, and it loads weights-only."""
import hashlib
import os
import os.path as osp
import re
import subprocess
import sys
from datetime import date

import numpy as np
import pytest
import torch
from helpers import ROOT, dataset_meta
from mmengine.logging import MessageHub
from mmengine.runner import save_checkpoint
from mmengine.runner.checkpoint import get_state_dict, weights_to_cpu

from samkr_mmpose import SAMKRHead
from samkr_mmpose.apis import publish_model

STEM = 'samkr_hrnet-w32_8xb10-140e_crowdpose-512x512'


@pytest.fixture(scope='module')
def head():
    return SAMKRHead(in_channels=8, num_keypoints=14)


def runner_checkpoint(head: SAMKRHead, path: str, **meta) -> None:
    """What mmengine's runner saves, with its numpy metadata and history
    buffers."""
    optimizer = torch.optim.Adam(head.parameters())
    head(tuple([torch.randn(1, 8, 4, 4)]))[0].sum().backward()
    optimizer.step()
    hub = MessageHub('publish_model_test')
    hub.update_scalar('train/loss', 0.5)
    save_checkpoint(
        dict(
            meta=dict(
                epoch=140,
                iter=7000,
                seed=0,
                dataset_meta=dataset_meta(14),
                cfg='model = dict()',
                **meta),
            state_dict=weights_to_cpu(get_state_dict(head)),
            message_hub=hub.state_dict(),
            optimizer=optimizer.state_dict(),
            param_schedulers=[dict(last_epoch=140)]), path)


def test_publish_into_directory(head, tmp_path):
    source = str(tmp_path / 'epoch_140.pth')
    runner_checkpoint(head, source, experiment_name=f'{STEM}_20261126_101010')
    out_dir = tmp_path / 'release'
    out_dir.mkdir()

    before = date.today()
    path, removed = publish_model(source, str(out_dir))
    days = {f'{day:%Y%m%d}' for day in (before, date.today())}

    assert sorted(removed) == ['message_hub', 'optimizer', 'param_schedulers']
    assert os.listdir(out_dir) == [osp.basename(path)]
    match = re.fullmatch(rf'{STEM}-([0-9a-f]{{8}})_(\d{{8}})\.pth',
                         osp.basename(path))
    assert match is not None, path
    with open(path, 'rb') as f:
        assert match.group(1) == hashlib.sha256(f.read()).hexdigest()[:8]
    assert match.group(2) in days

    # torch's weights-only loading; the numpy metadata needs the plugin
    published = torch.load(path, weights_only=True)
    assert list(published) == ['meta', 'state_dict']
    original = head.state_dict()
    assert list(published['state_dict']) == list(original)
    for key, value in original.items():
        assert torch.equal(published['state_dict'][key], value), key
    meta = published['meta']
    assert meta['experiment_name'] == f'{STEM}_20261126_101010'
    np.testing.assert_array_equal(meta['dataset_meta']['sigmas'],
                                  dataset_meta(14)['sigmas'])
    fresh = SAMKRHead(in_channels=8, num_keypoints=14)
    fresh.load_state_dict(published['state_dict'])


def test_publish_to_a_named_path(head, tmp_path):
    """The command line, with the dropped keys and the file printed."""
    source = str(tmp_path / 'epoch_1.pth')
    runner_checkpoint(head, source)
    proc = subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools', 'publish_model.py'), source,
        str(tmp_path / 'zoo' / 'samkr-custom.pth')
    ],
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    written = os.listdir(tmp_path / 'zoo')
    assert len(written) == 1
    assert re.fullmatch(r'samkr-custom-[0-9a-f]{8}_\d{8}\.pth', written[0])
    output = proc.stdout
    assert 'removed message_hub, optimizer, param_schedulers' in output
    assert written[0] in output


def test_bad_inputs(head, tmp_path):
    source = str(tmp_path / 'epoch_1.pth')
    runner_checkpoint(head, source, experiment_name='20261126_101010')
    with pytest.raises(ValueError, match='records no config name'):
        publish_model(source, str(tmp_path))
    tensor = str(tmp_path / 'tensor.pth')
    torch.save(torch.zeros(2), tensor)
    with pytest.raises(ValueError, match='not a checkpoint with a state_dict'):
        publish_model(tensor, str(tmp_path / 'out'))
