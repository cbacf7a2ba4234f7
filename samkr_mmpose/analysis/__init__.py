# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Analysis of training logs and of the model zoo's metafiles."""
from .model_zoo_tables import (load_metafiles, readme_path, update_readme,
                               write_model_zoo_tables)
from .plot_curves import plot_curves
from .plot_logs import plot_logs
from .scalar_logs import collect, find_logs, is_ap, is_loss, read_logs

__all__ = [
    'collect', 'find_logs', 'is_ap', 'is_loss', 'load_metafiles',
    'plot_curves', 'plot_logs', 'read_logs', 'readme_path', 'update_readme',
    'write_model_zoo_tables'
]
