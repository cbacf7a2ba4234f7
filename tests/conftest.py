# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
import pytest
import torch


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)
