# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
import os.path as osp

import pytest
import torch
from helpers import SHARED_DATA
from mmengine.registry import init_default_scope


def pytest_sessionstart(session) -> None:
    """Every inference path is tested on the real photos beside the
    project: without them the suite does not start."""
    if not osp.isdir(SHARED_DATA):
        raise pytest.UsageError(
            f'the real photos and video are missing: {SHARED_DATA} must '
            "hold the mini sets of MMPose's tests (coco/, crowdpose/, "
            'ochuman/ and the video), as CI has them')


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _mmpose_scope() -> None:
    """MMPose's registry scope for every test: a runner built by an earlier
    test (e.g. of a toy mmengine model) leaves its own scope current."""
    init_default_scope('mmpose')


@pytest.fixture(scope='module')
def one_thread() -> None:
    """Many tiny ops: on a shared 2-core machine threads only add
    overhead."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
