# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""What the command-line tools run: inference, demos, publishing,
rescore-net training, DEKR checkpoint conversion, ONNX export and the
ablation harness."""
from .ablation_configs import (DEFAULT_CONFIGS, DEKR_BASELINE, TABLE1, TABLE2,
                               ablation_configs, on_synthetic_budget)
from .ablation_table import plot_results, results_table
from .batched_pose2d_inferencer import BatchedPose2DInferencer
from .convert_dekr_to_samkr import (build_samkr_model, convert,
                                    convert_checkpoint, dekr_state_dict,
                                    displacement_plan, format_report,
                                    iter_report_rows)
from .demo_input import input_kind, list_images
from .draw_predictions import draw_predictions
from .export_onnx import export_and_check, export_onnx
from .inference_demo import inference_demo, load_demo_config
from .publish_model import publish_model
from .run_ablation import run_ablation
from .run_demo import DEMO_CONFIGS, point_to_data, run_demo, synthetic_root
from .train_rescore_net import train_rescore_net

__all__ = [
    'DEFAULT_CONFIGS', 'DEKR_BASELINE', 'TABLE1', 'TABLE2', 'ablation_configs',
    'on_synthetic_budget', 'plot_results', 'results_table', 'run_ablation',
    'BatchedPose2DInferencer', 'DEMO_CONFIGS', 'build_samkr_model', 'convert',
    'convert_checkpoint', 'dekr_state_dict', 'displacement_plan',
    'draw_predictions', 'export_and_check', 'export_onnx', 'format_report',
    'inference_demo', 'input_kind', 'iter_report_rows', 'list_images',
    'load_demo_config', 'point_to_data', 'publish_model', 'run_demo',
    'synthetic_root', 'train_rescore_net'
]
