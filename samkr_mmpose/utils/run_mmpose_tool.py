# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
import os.path as osp
import runpy

import mmpose


def run_mmpose_tool(name: str) -> None:
    """Run one of MMPose's own command-line tools with the plugin loaded.

    The tool reads ``sys.argv`` itself, so a wrapper script takes exactly
    MMPose's arguments. MMPose ships its tools in ``mmpose/.mim/tools`` when
    installed from a wheel and in ``tools/`` of a source checkout.

    Args:
        name (str): The tool's path under MMPose's ``tools``, e.g.
            ``'train.py'``.
    """
    import samkr_mmpose  # noqa: F401 registers modules and safe globals

    package = osp.dirname(mmpose.__file__)
    candidates = [
        osp.join(package, '.mim', 'tools', name),
        osp.join(osp.dirname(package), 'tools', name)
    ]
    for path in candidates:
        if osp.isfile(path):
            runpy.run_path(path, run_name='__main__')
            return
    raise FileNotFoundError(
        f'MMPose tool {name!r} not found; looked in {candidates}')
