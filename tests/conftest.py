# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
import pytest
import torch
from mmengine.registry import init_default_scope


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
