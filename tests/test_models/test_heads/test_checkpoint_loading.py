# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Checkpoints of mmengine's runner under torch's weights-only ``torch.load``:
they load and resume after ``import samkr_mmpose``, fail without it, and
malicious pickles stay refused."""
import os
import os.path as osp
import pickle
import pickletools
import shlex
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import torch
from helpers import ROOT, dataset_meta
from mmengine.evaluator import BaseMetric
from mmengine.logging import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import CheckpointLoader, Runner, load_checkpoint
from torch import nn
from torch.utils.data import Dataset

from samkr_mmpose.utils import (CHECKPOINT_SAFE_GLOBALS,
                                history_buffer_getattr,
                                register_checkpoint_safe_globals)

# globals torch's weights-only unpickler allows without any registration
TORCH_DEFAULT_GLOBALS = {
    '_codecs.encode', 'collections.Counter', 'collections.OrderedDict',
    'torch.FloatStorage', 'torch._utils._rebuild_tensor_v2'
}

# numpy 2 pickles arrays through numpy._core, numpy 1 through numpy.core
NUMPY_MODULE = np.zeros(0).__reduce__()[0].__module__
OTHER_NUMPY_MODULE = ({
    'numpy._core.multiarray': 'numpy.core.multiarray',
    'numpy.core.multiarray': 'numpy._core.multiarray'
}[NUMPY_MODULE])


class ToyModel(BaseModel):
    """A linear regressor trained with a squared error."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        outputs = self.linear(torch.stack(inputs)).squeeze(1)
        if mode == 'loss':
            return dict(loss=((outputs - torch.stack(data_samples))**2).mean())
        return list(outputs - torch.stack(data_samples))


class ToyPoseDataset(Dataset):
    """Two random samples carrying MMPose's CrowdPose metainfo, which the
    runner saves in the checkpoint's ``meta['dataset_meta']``."""

    metainfo = dataset_meta(14)

    def __init__(self) -> None:
        generator = torch.Generator().manual_seed(0)
        self.inputs = torch.randn(2, 2, generator=generator)
        self.targets = torch.randn(2, generator=generator)

    def __len__(self) -> int:
        return 2

    def __getitem__(self, index: int) -> dict:
        return dict(
            inputs=self.inputs[index], data_samples=self.targets[index])


class ToyMSE(BaseMetric):
    """Returns a numpy scalar, as ``CocoMetric`` does, so ``save_best``
    stores a numpy ``best_score`` in the message hub."""

    def process(self, data_batch, data_samples) -> None:
        self.results.extend(float(error)**2 for error in data_samples)

    def compute_metrics(self, results) -> dict:
        return dict(mse=np.float64(np.mean(results)))


def build_runner(work_dir: str, name: str) -> Runner:
    """Two epochs of one Adam step each, validated after each epoch."""
    loader = dict(
        dataset=ToyPoseDataset(),
        sampler=dict(type='DefaultSampler', shuffle=False),
        batch_size=2,
        num_workers=0)
    return Runner(
        model=ToyModel(),
        work_dir=work_dir,
        experiment_name=name,
        train_dataloader=loader,
        val_dataloader=loader,
        val_evaluator=[ToyMSE()],
        train_cfg=dict(by_epoch=True, max_epochs=2, val_interval=1),
        val_cfg=dict(),
        optim_wrapper=dict(optimizer=dict(type='Adam', lr=0.1)),
        param_scheduler=dict(type='MultiStepLR', milestones=[1]),
        default_hooks=dict(
            checkpoint=dict(
                type='CheckpointHook',
                interval=1,
                save_best='mse',
                rule='less')),
        randomness=dict(seed=0),
        # as MMPose's configs: mmengine's default scope would stay current
        # and hide MMPose's registries from later tests
        default_scope='mmpose')


def pickled_globals(checkpoint: str) -> set:
    """The ``module.name`` of every GLOBAL opcode in a checkpoint."""
    with zipfile.ZipFile(checkpoint) as archive:
        name, = (
            name for name in archive.namelist() if name.endswith('/data.pkl'))
        data = archive.read(name)
    return {
        argument.replace(' ', '.')
        for opcode, argument, _ in pickletools.genops(data)
        if opcode.name == 'GLOBAL'
    }


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """The trained runner and the path of its last checkpoint, which
    ``CheckpointHook`` saves again after validation, with ``best_score``."""
    work_dir = str(tmp_path_factory.mktemp('runner'))
    runner = build_runner(work_dir, f'train_{osp.basename(work_dir)}')
    runner.train()
    return runner, osp.join(work_dir, 'epoch_2.pth')


def test_checkpoint_holds_the_risky_globals(trained):
    _, checkpoint = trained
    assert pickled_globals(checkpoint) - TORCH_DEFAULT_GLOBALS == {
        '__builtin__.getattr', 'mmengine.logging.history_buffer.HistoryBuffer',
        f'{NUMPY_MODULE}._reconstruct', f'{NUMPY_MODULE}.scalar',
        'numpy.dtype', 'numpy.ndarray'
    }


def test_load_checkpoint(trained):
    runner, checkpoint = trained
    loaded = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    meta = loaded['meta']['dataset_meta']
    assert meta['sigmas'].dtype == np.float32
    np.testing.assert_array_equal(meta['sigmas'],
                                  ToyPoseDataset.metainfo['sigmas'])
    np.testing.assert_array_equal(meta['keypoint_colors'],
                                  ToyPoseDataset.metainfo['keypoint_colors'])
    best = loaded['message_hub']['runtime_info']['best_score']
    assert type(best) is np.float64
    assert best == runner.message_hub.get_scalar('val/mse').data[0].min()

    model = ToyModel()
    load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    assert torch.equal(model.linear.weight, runner.model.linear.weight)
    assert torch.equal(model.linear.bias, runner.model.linear.bias)


def test_resume_restores_loop_and_message_hub(trained, tmp_path):
    runner, checkpoint = trained
    resumed = build_runner(str(tmp_path), f'resume_{tmp_path.name}')
    assert resumed.message_hub is not runner.message_hub
    assert resumed.message_hub.log_scalars == {}

    resumed.resume(checkpoint, map_location='cpu')

    assert (resumed.epoch, resumed.iter) == (2, 2)
    trained_scalars = runner.message_hub.log_scalars
    resumed_scalars = resumed.message_hub.log_scalars
    assert resumed_scalars.keys() == trained_scalars.keys()
    assert {'train/loss', 'train/lr', 'val/mse'} <= resumed_scalars.keys()
    for key, buffer in trained_scalars.items():
        for resumed_data, data in zip(resumed_scalars[key].data, buffer.data):
            assert data.shape == (2, )
            np.testing.assert_array_equal(resumed_data, data)
    # the unpickled HistoryBuffer statistics methods work
    assert (resumed_scalars['train/loss'].mean() ==
            trained_scalars['train/loss'].mean())
    assert (resumed.message_hub.get_info('best_score') ==
            trained_scalars['val/mse'].data[0].min())
    # MultiStepLR's milestone after epoch 1 took lr from 0.1 to 0.01
    assert resumed.param_schedulers[0].last_step == 1
    assert resumed.optim_wrapper.get_lr()['lr'] == [pytest.approx(0.01)]
    resumed_state = resumed.optim_wrapper.optimizer.state_dict()['state']
    trained_state = runner.optim_wrapper.optimizer.state_dict()['state']
    assert float(resumed_state[0]['step']) == 2.0
    for index, state in trained_state.items():
        for key, value in state.items():
            assert torch.equal(resumed_state[index][key], value)


def test_load_fails_until_plugin_import(trained):
    """A fresh interpreter cannot load the checkpoint; after
    ``import samkr_mmpose`` and nothing else it can."""
    _, checkpoint = trained
    script = '\n'.join([
        'import pickle, sys',
        'from mmengine.runner import CheckpointLoader',
        'load = CheckpointLoader.load_checkpoint',
        'try:',
        '    load(sys.argv[1], map_location="cpu")',
        'except pickle.UnpicklingError as error:',
        '    print("refused:", " ".join(str(error).split()))',
        'import samkr_mmpose',
        'print("epoch", load(sys.argv[1], map_location="cpu")["meta"]'
        '["epoch"])',
    ])
    result = subprocess.run([sys.executable, '-c', script, checkpoint],
                            cwd=ROOT,
                            capture_output=True,
                            text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    # the rest of stdout is mmengine's log
    lines = [
        line for line in result.stdout.splitlines()
        if line.startswith(('refused:', 'epoch'))
    ]
    assert len(lines) == 2 and lines[1] == 'epoch 2', result.stdout
    assert 'Unsupported global' in lines[0], result.stdout


def test_other_numpy_checkpoint_loads(trained, tmp_path):
    """A checkpoint from the other numpy major version loads: numpy 1.x
    writes its rebuild functions under ``numpy.core``, 2.x under
    ``numpy._core``."""
    _, checkpoint = trained
    renamed = str(tmp_path / 'other_numpy.pth')
    with zipfile.ZipFile(checkpoint) as source, \
            zipfile.ZipFile(renamed, 'w') as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith('/data.pkl'):
                assert f'{NUMPY_MODULE}\n'.encode() in data
                data = data.replace(f'{NUMPY_MODULE}\n'.encode(),
                                    f'{OTHER_NUMPY_MODULE}\n'.encode())
            target.writestr(info, data)
    assert f'{OTHER_NUMPY_MODULE}._reconstruct' in pickled_globals(renamed)

    loaded = CheckpointLoader.load_checkpoint(renamed, map_location='cpu')
    np.testing.assert_array_equal(loaded['meta']['dataset_meta']['sigmas'],
                                  ToyPoseDataset.metainfo['sigmas'])


def test_registration_is_idempotent():
    before = torch.serialization.get_safe_globals()
    register_checkpoint_safe_globals()
    register_checkpoint_safe_globals()
    after = torch.serialization.get_safe_globals()
    assert len(after) == len(before)
    assert all(entry in after for entry in CHECKPOINT_SAFE_GLOBALS)
    assert getattr not in after


@pytest.mark.parametrize('name', ['current', 'max', 'mean', 'min'])
def test_history_buffer_getattr_allows_statistics(name):
    assert history_buffer_getattr(HistoryBuffer,
                                  name) is getattr(HistoryBuffer, name)


def test_history_buffer_getattr_refuses_non_string_names():
    with pytest.raises(pickle.UnpicklingError, match='Refused getattr'):
        history_buffer_getattr(HistoryBuffer, np.array(['mean', 'min']))


class Call:
    """Pickles as the call ``func(*args)``, the way malicious checkpoints
    are written; callable so that it may itself be a pickled ``func``."""

    def __init__(self, func, *args) -> None:
        self.func = func
        self.args = args

    def __call__(self) -> None:
        raise AssertionError('only pickled, never called')

    def __reduce__(self):
        return self.func, self.args


def save(payload, path) -> str:
    torch.save({'state_dict': {}, 'meta': payload}, str(path))
    return str(path)


@pytest.mark.parametrize('via_getattr', [True, False])
def test_os_system_payloads_are_refused(tmp_path, via_getattr):
    """``getattr(__import__('os'), 'system')(command)`` and
    ``os.system(command)``; the restricted getattr leaves no way to put the
    ``os`` module on the unpickler's stack."""
    marker = tmp_path / 'marker'
    command = f'touch {shlex.quote(str(marker))}'
    if via_getattr:
        system = Call(getattr, Call(__import__, 'os'), 'system')
        refused = 'GLOBAL __import__ was not an allowed global'
    else:
        system = os.system
        refused = f'GLOBAL {os.system.__module__}.system whose module'
    checkpoint = save(Call(system, command), tmp_path / 'evil.pth')

    for load in (CheckpointLoader.load_checkpoint, torch.load):
        with pytest.raises(pickle.UnpicklingError) as error:
            load(checkpoint, map_location='cpu')
        assert refused in str(error.value)
    assert not marker.exists()
    # the payload is live: unpickled without restrictions, it runs
    torch.load(checkpoint, weights_only=False)
    assert marker.exists()


@pytest.mark.parametrize('obj, name', [(HistoryBuffer, '__init__'),
                                       (HistoryBuffer, '__class__'),
                                       (HistoryBuffer, '__subclasses__'),
                                       (HistoryBuffer, 'register_statistics'),
                                       (HistoryBuffer.mean, '__globals__'),
                                       (np.ndarray, 'tofile')])
def test_other_getattr_lookups_are_refused(tmp_path, obj, name):
    checkpoint = save(Call(getattr, obj, name), tmp_path / 'evil.pth')
    with pytest.raises(pickle.UnpicklingError) as error:
        CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    assert f'Refused getattr({obj!r}, {name!r})' in str(error.value)
