# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""A non-editable ``pip install .`` ships the configs, tools and model index
in ``samkr_mmpose/.mim``, where mim looks, as MMPose's wheel does."""
import glob
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest
from helpers import ROOT

# what setup.py reads or ships
SOURCES = ('setup.py', 'MANIFEST.in', 'README.md', 'model-index.yml',
           'requirements', 'samkr_mmpose', 'samkr_deploy', 'configs', 'tools')
MIM = osp.join(osp.dirname(sys.executable), 'mim')


@pytest.fixture(scope='module')
def installed(tmp_path_factory) -> str:
    """``pip install --target`` of a copy of the sources (pip builds in
    the source tree, which stays untouched so)."""
    source = tmp_path_factory.mktemp('source')
    for name in SOURCES:
        src = osp.join(ROOT, name)
        if osp.isdir(src):
            shutil.copytree(
                src,
                source / name,
                ignore=shutil.ignore_patterns('__pycache__', '.mim'))
        else:
            shutil.copyfile(src, source / name)
    target = str(tmp_path_factory.mktemp('target'))
    subprocess.run([
        sys.executable, '-m', 'pip', 'install', '--no-deps',
        '--no-build-isolation', '--no-compile', '--quiet', '--target', target,
        str(source)
    ],
                   check=True,
                   env=dict(os.environ, PIP_NO_INDEX='1'))
    return target


def relative_files(root: str, pattern: str) -> list:
    return sorted(
        osp.relpath(p, root)
        for p in glob.glob(osp.join(root, pattern), recursive=True))


def test_configs_and_model_index_are_shipped(installed):
    mim = osp.join(installed, 'samkr_mmpose', '.mim')
    assert osp.isfile(osp.join(mim, 'model-index.yml'))
    assert not osp.islink(osp.join(mim, 'configs'))
    for pattern in ('configs/**/*.py', 'configs/**/*.yml', 'tools/*.py'):
        assert relative_files(mim, pattern) == relative_files(ROOT, pattern)
    assert osp.isfile(
        osp.join(mim, 'configs', '_base_', 'samkr_hardened_runtime.py'))


def test_mim_search_lists_the_models(installed):
    result = subprocess.run([MIM, 'search', 'samkr_mmpose', '--valid-config'],
                            capture_output=True,
                            text=True,
                            cwd=installed,
                            env=dict(
                                os.environ,
                                PYTHONPATH=installed,
                                PYTHONWARNINGS='ignore'))
    assert result.returncode == 0, result.stderr[-2000:]
    for path in glob.glob(osp.join(ROOT, 'configs', 'samkr', '*.py')):
        name = osp.splitext(osp.basename(path))[0]
        assert f"'{name}'" in result.stdout, result.stdout[-2000:]
