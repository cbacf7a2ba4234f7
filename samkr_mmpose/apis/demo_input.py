# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""What the demo predicts on: an image, a folder of images, a video or a
webcam."""
import mimetypes
import os
import os.path as osp
import re
from typing import List

WEBCAM = re.compile(r'webcam(:\d+)?')


def list_images(folder: str) -> List[str]:
    """The images in a folder, by file name, as MMPose's inferencer lists
    them (by MIME type), but skipping folders and files of no known type.

    Args:
        folder (str): The folder.

    Returns:
        List[str]: The image paths, sorted.
    """
    paths = [osp.join(folder, name) for name in sorted(os.listdir(folder))]
    return [
        p for p in paths if osp.isfile(p) and (
            mimetypes.guess_type(p)[0] or '').startswith('image/')
    ]


def input_kind(source: str) -> str:
    """Tell what a demo input is.

    Args:
        source (str): ``webcam``, ``webcam:ID``, a folder, a video or an
            image file.

    Returns:
        str: ``'webcam'``, ``'folder'``, ``'video'`` or ``'image'``.

    Raises:
        ValueError: If ``source`` is none of these.
    """
    if WEBCAM.fullmatch(source):
        return 'webcam'
    if source.startswith('webcam'):
        raise ValueError(f'a webcam is webcam or webcam:ID with an integer '
                         f'camera ID, got {source!r}')
    if osp.isdir(source):
        return 'folder'
    if not osp.isfile(source):
        raise ValueError(f'input {source!r} is no file, folder or webcam')
    kind = (mimetypes.guess_type(source)[0] or '').split('/')[0]
    if kind not in ('image', 'video'):
        raise ValueError(f'input {source!r} is neither an image nor a video '
                         f'(by its extension)')
    return kind
