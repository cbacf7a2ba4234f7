# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from typing import List, Union

import numpy as np
import torch
from mmengine.dist import master_only

from mmpose.registry import VISUALIZERS
from mmpose.visualization import PoseLocalVisualizer


@VISUALIZERS.register_module()
class Numpy2PoseLocalVisualizer(PoseLocalVisualizer):
    """:class:`PoseLocalVisualizer` whose OpenCV backend draws keypoints
    with numpy 2.

    MMPose 1.3 draws every keypoint with
    ``draw_circles(kpt, radius=np.array([self.radius]))``, and its OpenCV
    backend passes ``int(radius)`` to ``cv2.circle``. numpy deprecated
    converting 1-element arrays to Python scalars in 1.25 and refuses it
    in 2.4 (the version here), so the first keypoint drawn raises
    ``TypeError``. The OpenCV backend draws one circle per call, so
    :meth:`draw_circles` hands it the radius as a scalar; the matplotlib
    backend, which draws many, gets it unchanged. Importing
    ``samkr_mmpose`` registers it also as ``PoseLocalVisualizer`` in
    MMPose's registry, so configs asking for MMPose's visualizer (MMPose's
    ``default_runtime.py`` and every config based on it) draw with it; the
    class ``mmpose.visualization.PoseLocalVisualizer`` itself is unchanged.
    The arguments are those of :class:`PoseLocalVisualizer`. With the default
    OpenCV backend it draws what MMPose draws with older numpy, about 50
    times faster than the matplotlib backend.
    """

    @master_only
    def draw_circles(self,
                     center: Union[np.ndarray, torch.Tensor],
                     radius: Union[np.ndarray, torch.Tensor, float],
                     face_colors: Union[str, tuple, List[str],
                                        List[tuple]] = 'none',
                     alpha: float = 1.0,
                     **kwargs) -> None:
        """Draw circles, one with the OpenCV backend.

        Args:
            center (np.ndarray | torch.Tensor): The centre ``(x, y)``, or
                with the matplotlib backend the centres ``(N, 2)``.
            radius (np.ndarray | torch.Tensor | float): The radius, or with
                the matplotlib backend the radii ``(N, )``.
            face_colors (str | tuple | List[str] | List[tuple]): The fill
                colours. Defaults to ``'none'``.
            alpha (float): The opacity. Defaults to 1.0.
            **kwargs: The other arguments of
                :meth:`OpencvBackendVisualizer.draw_circles`.

        Raises:
            ValueError: If the OpenCV backend gets more than one radius.
        """
        if self.backend == 'opencv':
            radii = np.asarray(radius).reshape(-1)
            if radii.size != 1:
                raise ValueError(f'the OpenCV backend draws one circle per '
                                 f'call, got {radii.size} radii')
            radius = radii.item()
        super().draw_circles(
            center, radius, face_colors=face_colors, alpha=alpha, **kwargs)


# the name MMPose's configs ask for builds the fixed subclass
VISUALIZERS.register_module(
    name=PoseLocalVisualizer.__name__,
    module=Numpy2PoseLocalVisualizer,
    force=True)
