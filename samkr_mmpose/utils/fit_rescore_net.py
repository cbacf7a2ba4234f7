# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from typing import List, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.logging import print_log

from mmpose.models.heads.hybrid_heads.dekr_head import RescoreNet


def fit_rescore_net(net: RescoreNet,
                    keypoints: np.ndarray,
                    keypoint_scores: np.ndarray,
                    oks: np.ndarray,
                    skeleton: Sequence[Sequence[int]],
                    epochs: int = 20,
                    lr: float = 1e-3,
                    batch_size: int = 1024,
                    seed: int = 0) -> List[float]:
    """Fit DEKR's rescore net to the OKS of predicted poses.

    DEKR's ``rescore_fit``: mean squared error between the net's output
    for every pose and its OKS, Adam, shuffled batches; the defaults are
    those of DEKR's ``rescore_coco.yaml``. Unlike DEKR's loop, the last
    partial batch of an epoch is used too. The net is in eval mode
    afterwards.

    Args:
        net (RescoreNet): The net, on the device to train on.
        keypoints (np.ndarray): The keypoints (N, K, 2) the net sees.
        keypoint_scores (np.ndarray): The keypoint scores (N, K).
        oks (np.ndarray): The OKS targets (N, ).
        skeleton (Sequence[Sequence[int]]): The skeleton links of the
            net's features.
        epochs (int): Number of passes over the poses. Defaults to 20.
        lr (float): Adam's learning rate. Defaults to 1e-3.
        batch_size (int): Poses per step. Defaults to 1024.
        seed (int): Seed of the shuffling. Defaults to 0.

    Returns:
        List[float]: The mean training loss of every epoch.
    """
    for name, value in dict(epochs=epochs, batch_size=batch_size).items():
        if value < 1:
            raise ValueError(f'{name} must be >= 1, got {value}')
    if not len(keypoints) == len(keypoint_scores) == len(oks) > 0:
        raise ValueError(
            f'fit_rescore_net needs as many keypoints ({len(keypoints)}), '
            f'keypoint scores ({len(keypoint_scores)}) and OKS '
            f'({len(oks)}), and at least one')
    device = next(net.parameters()).device
    keypoints, keypoint_scores, oks = (
        torch.as_tensor(array, dtype=torch.float32, device=device)
        for array in (keypoints, keypoint_scores, oks))
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    net.train()
    losses = []
    for epoch in range(epochs):
        order = torch.randperm(len(oks), generator=generator).to(device)
        total = 0.
        for batch in order.split(batch_size):
            loss = F.mse_loss(
                net(keypoints[batch], keypoint_scores[batch], skeleton),
                oks[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        losses.append(total / len(oks))
        print_log(
            f'rescore net epoch {epoch + 1}/{epochs}: loss {losses[-1]:.6f}',
            logger='current')
    net.eval()
    return losses
