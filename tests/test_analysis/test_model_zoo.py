# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""The model zoo: one metafile entry per config and back, metadata that
matches the configs, README tables generated from the metafiles, no
results that were not measured, and mim reading the model index."""
import copy
import glob
import os
import os.path as osp

import pytest
import torch
from click.testing import CliRunner
from helpers import ROOT
from mim.commands import search
from mmengine.config import Config
from mmengine.registry import init_default_scope
from modelindex.load_model_index import load

from mmpose.registry import MODELS
from samkr_mmpose.analysis import model_zoo_tables as tool

README_DIR = 'configs/samkr'

METAFILES = tool.load_metafiles(osp.join(ROOT, 'model-index.yml'))
ALL_MODELS = [model for metafile in METAFILES for model in metafile['Models']]
DATASETS = {'CocoDataset': 'COCO', 'CrowdPoseDataset': 'CrowdPose'}


def read(path: str) -> str:
    with open(osp.join(ROOT, path)) as f:
        return f.read()


def test_every_config_has_one_entry():
    configs = sorted(
        osp.relpath(p, ROOT)
        for p in glob.glob(osp.join(ROOT, README_DIR, '*.py')))
    entries = [model['Config'] for model in ALL_MODELS]
    assert len(configs) == 13
    assert sorted(entries) == configs
    for model in ALL_MODELS:
        assert model['Name'] == osp.splitext(osp.basename(model['Config']))[0]
        assert model['In Collection'] == 'SAMKR'
    metafiles = sorted(
        osp.relpath(p, ROOT)
        for p in glob.glob(osp.join(ROOT, README_DIR, '*.yml')))
    assert sorted(m['path'] for m in METAFILES) == metafiles


@pytest.mark.parametrize('model', ALL_MODELS, ids=lambda m: m['Name'])
def test_metadata_matches_config(model):
    cfg = Config.fromfile(osp.join(ROOT, model['Config']))
    meta, head = model['Metadata'], cfg.model.head
    assert meta['Training Data'] == DATASETS[cfg.train_dataloader.dataset.type]
    assert meta['Input Size'] == '{}x{}'.format(*cfg.codec.input_size)
    per_keypoint = head.get('per_keypoint_branches', True)
    c = head.num_channels_per_keypoint
    assert meta['Keypoint Branches'] == (
        head.num_keypoints if per_keypoint else 1)
    assert meta['Channels per Branch'] == (
        c if per_keypoint else head.num_keypoints * c)
    assert meta['Subspaces per Branch'] == head.num_subspaces
    swahr = head.heatmap_loss.type == 'AdaptiveHeatmapLoss'
    assert ('SWAHR' in meta.get('Training Techniques', [])) == swahr

    init_default_scope('mmpose')
    with torch.device('meta'):
        network = MODELS.build(cfg.model)
    assert meta['Parameters'] == sum(p.numel() for p in network.parameters())


def test_readme_tables_are_generated():
    readme = tool.readme_path(METAFILES)
    assert readme == osp.join(README_DIR, 'README.md')
    text = read(readme)
    assert tool.update_readme(text, METAFILES, README_DIR) == text
    assert tool.write_model_zoo_tables(ROOT, check=True) == 0
    found = {m.group('name') for m in tool.BLOCK.finditer(text)}
    assert found == set(tool.blocks(METAFILES, README_DIR))


def test_tables_follow_the_metafiles():
    text = read(osp.join(README_DIR, 'README.md'))
    changed = copy.deepcopy(METAFILES)
    model = changed[0]['Models'][0]
    model['Metadata']['FLOPs'] = 46_000_000_000
    model['Paper Results'][0]['Metrics']['AP@0.75'] = 0.751
    updated = tool.update_readme(text, changed, README_DIR)
    stale = set(text.splitlines()) - set(updated.splitlines())
    assert len(stale) == 2  # the models table and Table 3 rows
    assert '| 46.00 |' in updated and '| 0.751 |' in updated
    with pytest.raises(ValueError, match='unknown model-zoo blocks'):
        tool.update_readme('<!-- model-zoo:nope -->\n<!-- model-zoo:end -->',
                           METAFILES, README_DIR)


def test_only_measured_results_are_published():
    """``Results`` need released ``Weights``; the paper's numbers stay in
    ``Paper Results`` and appear only in tables labelled the paper's."""
    for model in ALL_MODELS:
        for result in model.get('Results') or []:
            assert model.get('Weights'), model['Name']
        for entry in model['Paper Results']:
            assert set(entry['Tables']) <= set(tool.PAPER_TABLES)
            assert set(entry['Metrics']) <= set(tool.METRIC_HEADERS)
    blocks = tool.blocks(METAFILES, README_DIR)
    assert blocks['measured'].startswith('No checkpoint')
    for name, block in blocks.items():
        if name.startswith('paper-table'):
            assert block.startswith("The paper's Table")

    released = copy.deepcopy(METAFILES)
    model = released[1]['Models'][0]
    model['Weights'] = 'https://example.org/samkr-w32-crowdpose.pth'
    model['Results'] = [
        dict(
            Task='Body 2D Keypoint',
            Dataset='CrowdPose',
            Metrics={
                'AP': 0.5125,
                'AP (E)': 0.6
            })
    ]
    blocks = tool.blocks(released, README_DIR)
    assert blocks['measured'] == (
        'CrowdPose:\n\n| config | AP | AP<sup>E</sup> | ckpt |\n'
        '| :--- | :-: | :-: | :-: |\n'
        '| [samkr_hrnet-w32_8xb10-140e_crowdpose-512x512.py]'
        '(./samkr_hrnet-w32_8xb10-140e_crowdpose-512x512.py) | 0.512 | '
        '0.600 | [ckpt](https://example.org/samkr-w32-crowdpose.pth) |\n')
    assert '[ckpt](https://example.org/' in blocks['models']
    assert '0.512' not in blocks['paper-table-5']


def test_mim_reads_the_model_index(tmp_path, monkeypatch):
    index = load(osp.join(ROOT, 'model-index.yml'))
    assert index.check(silent=True) == []

    # an installed package ships them in <package>/.mim, as MMPose does
    package = tmp_path / 'samkr_mmpose'
    (package / '.mim').mkdir(parents=True)
    os.symlink(
        osp.join(ROOT, 'model-index.yml'),
        package / '.mim' / 'model-index.yml')
    os.symlink(osp.join(ROOT, 'configs'), package / '.mim' / 'configs')
    monkeypatch.setattr(search, 'is_installed', lambda name: True)
    monkeypatch.setattr(search, 'get_installed_path', lambda name: package)

    result = CliRunner().invoke(search.cli, ['samkr_mmpose', '--valid-config'])
    assert result.exit_code == 0, result.output
    for model in ALL_MODELS:
        assert f"'{model['Name']}'" in result.output

    info = search.get_model_info(
        'samkr_mmpose',
        filter_conditions='flops<45000000000',
        training_datasets=['coco'],
        shown_fields=['parameters', 'flops'],
        to_dict=True)
    expected = {
        m['Name']:
        dict(
            parameters=m['Metadata']['Parameters'],
            flops=m['Metadata']['FLOPs'])
        for m in ALL_MODELS if m['Metadata']['FLOPs'] < 45e9
        and m['Metadata']['Training Data'] == 'COCO'
    }
    assert len(expected) == 2
    assert info == expected
