# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""The ablation harness (``tools/run_ablation.py``): a tiny case of two
configs and one seed on synthetic crowds, resumed without rerunning, and
its table against values computed here."""
import json
import os.path as osp
import subprocess
from unittest import mock

import numpy as np
import pytest
from helpers import ROOT

from samkr_mmpose.apis import (DEFAULT_CONFIGS, DEKR_BASELINE, TABLE1, TABLE2,
                               on_synthetic_budget, results_table,
                               run_ablation)

TINY = {
    'train_cfg.max_epochs': 1,
    'train_cfg.val_interval': 1,
    'train_dataloader.batch_size': 4,
    'param_scheduler': [dict(type='ConstantLR', factor=1.0)],
    'default_hooks.checkpoint.interval': 1,
}


def test_default_configs_are_the_tables_and_dekr():
    assert len(TABLE1) == 4 and len(TABLE2) == 7
    assert 'samkr-g12c24' in osp.basename(TABLE2[-1])
    assert DEFAULT_CONFIGS[-1] == DEKR_BASELINE
    assert len(DEFAULT_CONFIGS) == 11
    for config in DEFAULT_CONFIGS[:-1]:
        assert osp.isfile(osp.join(ROOT, config))


def test_synthetic_budget_swaps_only_the_head():
    base = on_synthetic_budget(TABLE2[0])
    cfg = on_synthetic_budget(TABLE2[-1])
    dekr = on_synthetic_budget(DEKR_BASELINE)
    assert cfg.model.backbone == base.model.backbone
    assert cfg.train_cfg == base.train_cfg
    assert cfg.model.head.num_subspaces == 12
    assert base.model.head.num_subspaces == 8
    assert dekr.model.head.type == 'MultiBackendDEKRHead'
    assert dekr.model.head.deform_backend == 'torch'
    assert dekr.model.head.in_channels == base.model.head.in_channels
    assert dekr.model.head.decoder == base.model.head.decoder
    assert not dekr.model.test_cfg.match_heatmap


def test_results_table_means_and_spreads():
    other = {'coco/AP .5': 1., 'coco/AP (L)': -1.}
    records = [
        dict(config='a', seed=s, metrics={
            'coco/AP': ap,
            **other
        }) for s, ap in enumerate([0.1, 0.2, 0.6])
    ] + [dict(config='b', seed=0, metrics={
        'coco/AP': 0.5,
        **other
    })]
    table = results_table(records, ['a', 'b'])
    # -1 everywhere: no ground truth for the metric
    assert 'coco/AP (L)' not in table
    std = np.std([0.1, 0.2, 0.6], ddof=1)
    assert f'| a | 3 | 0.300 +- {std:.3f} | 1.000 +- 0.000 |' in table
    assert '0: 0.100, 1: 0.200, 2: 0.600 |' in table
    assert '| b | 1 | 0.500 +- 0.000 |' in table


def test_tiny_ablation_runs_and_resumes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    configs = [TABLE2[0], DEKR_BASELINE]
    work_dir = str(tmp_path / 'ablation')
    records = run_ablation(
        configs, [0],
        work_dir,
        cfg_options=TINY,
        threads=2,
        num_train=8,
        num_val=4)
    assert [r['config'] for r in records
            ] == [osp.splitext(osp.basename(c))[0] for c in configs]
    for record in records:
        assert 0 <= record['metrics']['coco/AP'] <= 1
        assert record['train_seconds'] > 0
    with open(osp.join(work_dir, 'results.json')) as f:
        assert json.load(f) == records
    assert osp.getsize(osp.join(work_dir, 'results.png')) > 0
    with open(osp.join(work_dir, 'results.md')) as f:
        assert f.read() == results_table(records,
                                         [r['config'] for r in records])
    # finished runs are read, not run again
    with mock.patch.object(subprocess, 'run', side_effect=AssertionError):
        again = run_ablation(
            configs, [0], work_dir, cfg_options=TINY, num_train=8, num_val=4)
    assert again == records
    # nor taken for the runs of other options
    other = {**TINY, 'train_cfg.max_epochs': 2}
    with pytest.raises(ValueError, match='holds a run of another config'):
        run_ablation(
            configs, [0], work_dir, cfg_options=other, num_train=8, num_val=4)


def test_failed_runs_are_named(tmp_path):
    """A run that fails leaves the others and is named with its log."""
    failure = subprocess.CalledProcessError(1, 'worker')
    with mock.patch.object(subprocess, 'run', side_effect=failure):
        with pytest.raises(
                RuntimeError,
                match=r'1 of 1 runs failed; see \[.*seed_0/stdout\.log'):
            run_ablation([TABLE2[0]], [0],
                         str(tmp_path / 'ablation'),
                         num_train=2,
                         num_val=1)


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match='jobs must be >= 1, got 0'):
        run_ablation([TABLE2[0]], [0], str(tmp_path), jobs=0)
    with pytest.raises(ValueError, match='distinct file names'):
        run_ablation([TABLE2[0], TABLE2[0]], [0], str(tmp_path))
    with pytest.raises(ValueError, match=r'distinct seeds .* seeds \[1, 1\]'):
        run_ablation([TABLE2[0]], [1, 1], str(tmp_path))
    with pytest.raises(ValueError, match=r"Unknown dataset 'mpii'"):
        on_synthetic_budget(TABLE2[0], 'mpii')


def test_synthetic_crowdpose_budget():
    cfg = on_synthetic_budget(TABLE2[0], 'crowdpose')
    assert cfg.model.head.num_keypoints == 14
    assert cfg.train_dataloader.dataset.type == 'CrowdPoseDataset'
    assert on_synthetic_budget(DEKR_BASELINE,
                               'crowdpose').model.head.num_keypoints == 14
