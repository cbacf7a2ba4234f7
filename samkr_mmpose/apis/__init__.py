# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""What the command-line tools run: inference, demos, publishing and
rescore-net training."""
from .batched_pose2d_inferencer import BatchedPose2DInferencer
from .demo_input import input_kind, list_images
from .draw_predictions import draw_predictions
from .inference_demo import inference_demo, load_demo_config
from .publish_model import publish_model
from .run_demo import DEMO_CONFIGS, point_to_data, run_demo, synthetic_root
from .train_rescore_net import train_rescore_net

__all__ = [
    'BatchedPose2DInferencer', 'DEMO_CONFIGS', 'draw_predictions',
    'inference_demo', 'input_kind', 'list_images', 'load_demo_config',
    'point_to_data', 'publish_model', 'run_demo', 'synthetic_root',
    'train_rescore_net'
]
