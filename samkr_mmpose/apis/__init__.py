# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from .convert_dekr_to_samkr import (build_samkr_model, convert,
                                    convert_checkpoint, dekr_state_dict,
                                    displacement_plan, format_report,
                                    iter_report_rows)

__all__ = [
    'build_samkr_model', 'convert', 'convert_checkpoint', 'dekr_state_dict',
    'displacement_plan', 'format_report', 'iter_report_rows'
]
