# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""``tools/plot_logs.py`` on the JSON logs that mmengine's runner writes.

The runs train a two-parameter model whose losses carry SAMKR's names
(``loss/heatmap``, ``loss/displacement``) and whose metric reports a COCO
``AP`` and an ``AP (L)`` of -1, as ``CocoMetric`` does for an area with
no ground truth: the format is mmengine's own, at a fraction of a SAMKR
training's cost. The values plotted are compared with those the runner
computed.
"""
import os.path as osp
import subprocess
import sys
import time
from typing import Optional, Sequence

import matplotlib.image
import pytest
import torch
from helpers import ROOT
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner

# lets the resumed run load mmengine's checkpoint with torch's weights-only
# loader
import samkr_mmpose  # noqa: F401
from samkr_mmpose import analysis

SCRIPT = osp.join(ROOT, 'tools', 'plot_logs.py')
LOSSES = ['loss', 'loss/heatmap', 'loss/displacement']


class TwoLossModel(BaseModel):
    """``w * x`` with a squared and an absolute loss."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.tensor([2.0, -1.5]))

    def forward(self, inputs, data_samples=None, mode='tensor'):
        x = torch.stack(inputs)
        if mode == 'loss':
            return {
                'loss/heatmap': (self.weight[0] * x).pow(2).mean(),
                'loss/displacement': (self.weight[1] * x).abs().mean()
            }
        return [dict(weight=self.weight.detach().clone())]


class WeightMetric(BaseMetric):
    """An ``AP`` rising as the weights fall, and COCO's -1."""
    default_prefix = 'coco'

    def process(self, data_batch, data_samples):
        self.results.append(data_samples[0]['weight'].abs().sum().item())

    def compute_metrics(self, results):
        return {'AP': 1 / (1 + results[-1]), 'AP (L)': -1.0}


class Recorder(Hook):
    """Keep what the runner computed: losses per iteration, APs per
    validation."""

    def __init__(self):
        self.losses = {key: [] for key in LOSSES}
        self.aps = []

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        for key in LOSSES:
            self.losses[key].append(outputs[key].item())

    def after_val_epoch(self, runner, metrics=None):
        self.aps.append(metrics['coco/AP'])


def next_second() -> None:
    """mmengine names a run's folder and visualizer after the second it
    starts: two runs need two seconds."""
    now = time.strftime('%Y%m%d_%H%M%S')
    while time.strftime('%Y%m%d_%H%M%S') == now:
        time.sleep(0.05)


def train(work_dir: str,
          by_epoch: bool = True,
          length: int = 3,
          resume: bool = False,
          metric_by_epoch: Optional[bool] = None) -> Recorder:
    """Train on 8 numbers in batches of 4, validating every epoch or every
    2 iterations, logging every iteration unaveraged and the validation by
    epoch or iteration (by default: as the training)."""
    next_second()
    data = [dict(inputs=torch.tensor(float(i + 1) / 8)) for i in range(8)]
    loader = dict(
        dataset=data,
        sampler=dict(type='DefaultSampler', shuffle=False),
        batch_size=4,
        collate_fn=dict(type='pseudo_collate'))
    loop = (
        dict(by_epoch=True, max_epochs=length, val_interval=1) if by_epoch else
        dict(by_epoch=False, max_iters=length, val_interval=2))
    runner = Runner(
        model=TwoLossModel(),
        work_dir=work_dir,
        train_dataloader=loader,
        val_dataloader=loader,
        val_evaluator=[WeightMetric()],
        train_cfg=loop,
        val_cfg=dict(),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.2)),
        default_hooks=dict(
            logger=dict(
                type='LoggerHook',
                interval=1,
                log_metric_by_epoch=by_epoch
                if metric_by_epoch is None else metric_by_epoch),
            checkpoint=dict(
                type='CheckpointHook', interval=1, by_epoch=by_epoch)),
        log_processor=dict(window_size=1, by_epoch=by_epoch),
        resume=resume,
        default_scope='mmengine')
    recorder = Recorder()
    runner.register_hook(recorder)
    runner.train()
    return recorder


@pytest.fixture(scope='module')
def epoch_run(tmp_path_factory):
    """Three epochs, then a resumed run to five: two logs in one work
    dir."""
    work_dir = str(tmp_path_factory.mktemp('epoch_run'))
    first = train(work_dir, length=3)
    second = train(work_dir, length=5, resume=True)
    losses = {k: first.losses[k] + second.losses[k] for k in LOSSES}
    return work_dir, losses, first.aps + second.aps


def png_size(path: str) -> Sequence[int]:
    """The PNG's (height, width), after checking it is not blank."""
    img = matplotlib.image.imread(path)
    assert img[..., :3].std() > 0
    return img.shape[:2]


def test_resumed_logs_are_joined(epoch_run):
    work_dir, losses, aps = epoch_run
    logs = analysis.find_logs(work_dir)
    assert len(logs) == 2 and logs == sorted(logs)
    train, val = analysis.read_logs(logs)
    # 2 iterations per epoch, 5 epochs
    assert [r['step'] for r in train] == list(range(1, 11))
    for key in LOSSES:
        xs, ys = analysis.collect(train, [key])[key]
        assert xs == list(range(1, 11))
        assert ys == pytest.approx(losses[key], rel=1e-6)
    series = analysis.collect(val, None, analysis.is_ap)
    # COCO's -1 is dropped
    assert list(series) == ['coco/AP']
    xs, ys = series['coco/AP']
    assert xs == [1, 2, 3, 4, 5]
    assert ys == pytest.approx(aps, rel=1e-6)
    # the weights fall, so the made-up AP rises
    assert ys == sorted(ys) and ys[0] < ys[-1]


def test_command_line_writes_pngs(epoch_run):
    work_dir = epoch_run[0]
    proc = subprocess.run([sys.executable, SCRIPT, work_dir],
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    loss_png = osp.join(work_dir, 'loss_curves.png')
    ap_png = osp.join(work_dir, 'ap_curves.png')
    assert f'Wrote {loss_png}' in out and f'Wrote {ap_png}' in out
    # three loss panels in 2 x 2 of 6 x 4 inches at 100 dpi; one AP panel
    assert png_size(loss_png) == (800, 1200)
    assert png_size(ap_png) == (400, 600)


def test_compare_runs_iteration_based(epoch_run, tmp_path):
    iter_dir = str(tmp_path / 'iter_run')
    recorder = train(iter_dir, by_epoch=False, length=4)
    train_records, val = analysis.read_logs(analysis.find_logs(iter_dir))
    assert 'epoch' not in train_records[0]
    # validated at iterations 2 and 4
    xs, ys = analysis.collect(val, None, analysis.is_ap)['coco/AP']
    assert xs == [2, 4] and ys == pytest.approx(recorder.aps, rel=1e-6)

    out_dir = str(tmp_path / 'curves')
    written = analysis.plot_logs([iter_dir, iter_dir],
                                 out_dir,
                                 loss_keys=['loss/heatmap'],
                                 names=['a', 'b'])
    assert written == [
        osp.join(out_dir, 'loss_curves.png'),
        osp.join(out_dir, 'ap_curves.png')
    ]
    # one loss panel; two runs compared in one panel per AP
    assert png_size(written[0]) == (400, 600)
    assert png_size(written[1]) == (400, 600)
    with pytest.raises(ValueError, match='epoch- and iteration-based'):
        analysis.plot_logs([epoch_run[0], iter_dir], out_dir)

    # mmengine's default logs every validation at "epoch" 0 here
    wrong_dir = str(tmp_path / 'metric_by_epoch')
    train(wrong_dir, by_epoch=False, length=4, metric_by_epoch=True)
    with pytest.raises(ValueError, match='log_metric_by_epoch=False'):
        analysis.plot_logs([wrong_dir], out_dir)


def test_errors(epoch_run, tmp_path):
    with pytest.raises(ValueError, match='holds no <timestamp>'):
        analysis.find_logs(str(tmp_path))
    with pytest.raises(ValueError, match='1 names for 2 logs'):
        analysis.plot_logs([epoch_run[0]] * 2, str(tmp_path), names=['a'])
    with pytest.raises(ValueError, match=r"none of the losses \['loss_kpt'"):
        analysis.plot_logs([epoch_run[0]],
                           str(tmp_path),
                           loss_keys=['loss_kpt'])
