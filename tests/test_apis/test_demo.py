# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""``tools/demo.py`` (:mod:`samkr_mmpose.apis`): the inputs it accepts
(image, folder, video, webcam), its batched inferencer, and its command
line writing drawn images, videos and JSON predictions with a progress
bar.

A webcam cannot be opened here: only the choice of the webcam source is
tested. The real images and video in ``../shared/data`` are used where
they exist, generated synthetic ones everywhere.
"""
import json
import os
import os.path as osp
import subprocess
import sys

import mmcv
import numpy as np
import pytest
from helpers import ROOT, SHARED_DATA
from test_inferencer import BASE_CONFIG, write_images, write_model, write_video

from samkr_mmpose import apis as demo

SCRIPT = osp.join(ROOT, 'tools', 'demo.py')

pytestmark = pytest.mark.usefixtures('one_thread')


@pytest.fixture(scope='module')
def model_files(tmp_path_factory):
    return write_model(str(tmp_path_factory.mktemp('model')))


@pytest.fixture(scope='module')
def inferencer(model_files):
    return demo.BatchedPose2DInferencer(*model_files, device='cpu')


def test_input_kind(tmp_path):
    (image, ) = write_images(str(tmp_path), [(64, 64)])
    video = str(tmp_path / 'clip.mp4')
    write_video(video, 2, (64, 64))
    text = tmp_path / 'notes.txt'
    text.write_text('no image')
    assert demo.input_kind(image) == 'image'
    assert demo.input_kind(video) == 'video'
    assert demo.input_kind(str(tmp_path)) == 'folder'
    assert demo.input_kind('webcam') == 'webcam'
    assert demo.input_kind('webcam:2') == 'webcam'
    with pytest.raises(ValueError, match="got 'webcam:front'"):
        demo.input_kind('webcam:front')
    with pytest.raises(ValueError, match='neither an image nor a video'):
        demo.input_kind(str(text))
    with pytest.raises(ValueError, match='no file, folder or webcam'):
        demo.input_kind(str(tmp_path / 'missing.jpg'))


@pytest.mark.parametrize('bad, message', [
    (['webcam:x'], "got 'webcam:x'"),
    (['webcam', '--batch-size', '0'], '--batch-size must be >= 1, got 0'),
])
def test_command_line_checks_its_arguments(bad, message):
    proc = subprocess.run([sys.executable, SCRIPT, 'cfg.py', 'w.pth', *bad],
                          capture_output=True,
                          text=True,
                          cwd=ROOT,
                          timeout=300)
    assert proc.returncode == 2 and message in proc.stderr


def test_load_config_swaps_the_visualizer():
    cfg = demo.load_demo_config(BASE_CONFIG)
    # the project's config, inheriting MMPose's DEKR runtime
    assert cfg.visualizer == dict(
        type='Numpy2PoseLocalVisualizer',
        vis_backends=[dict(type='LocalVisBackend')],
        name='visualizer',
        _scope_='mmpose')


def test_list_images(tmp_path):
    write_images(str(tmp_path), [(64, 64), (64, 64)])
    mmcv.imwrite(np.zeros((8, 8, 3), np.uint8), str(tmp_path / 'a.png'))
    for name in ('README', 'b.json'):
        (tmp_path / name).write_text('{}')
    (tmp_path / 'c.jpg').mkdir()
    assert [osp.basename(p) for p in demo.list_images(str(tmp_path))
            ] == ['a.png', 'synthetic_0.jpg', 'synthetic_1.jpg']


def assert_same_poses(expected: list, actual: list) -> None:
    """Every image's predicted instances, one by one and in batches, are
    the same poses (to 1e-3 px), and there are some."""
    for one, many in zip(expected, actual):
        assert len(one) == len(many) > 0
        np.testing.assert_allclose(
            np.array([i['keypoints'] for i in many]),
            np.array([i['keypoints'] for i in one]),
            rtol=0,
            atol=1e-3)


def test_batched_inferencer(inferencer, tmp_path):
    """Batches of images of different sizes predict what single images
    do, in input order."""
    paths = write_images(
        str(tmp_path), [(160, 160), (240, 120), (160, 160), (120, 200),
                        (200, 200)])
    single = list(inferencer(paths, batch_size=1))
    batched = list(inferencer(paths, batch_size=3))
    assert [len(r['predictions']) for r in single] == [1] * 5
    assert [len(r['predictions']) for r in batched] == [3, 2]
    expected = [r['predictions'][0] for r in single]
    actual = [p for r in batched for p in r['predictions']]
    assert_same_poses(expected, actual)
    with pytest.raises(ValueError, match='batch_size must be >= 1, got 0'):
        next(inferencer.preprocess(paths, batch_size=0))


def shared_photos() -> list:
    """Every photo of ``../shared/data``."""
    return sorted(
        osp.join(SHARED_DATA, folder, name)
        for folder in ('coco', 'crowdpose', 'ochuman')
        for name in os.listdir(osp.join(SHARED_DATA, folder))
        if name.endswith('.jpg'))


def test_batched_inferencer_shared_photos(inferencer):
    """All real photos in batches of 4 predict what each does alone."""
    paths = shared_photos()
    assert len(paths) == 9
    single = [r['predictions'][0] for r in inferencer(paths, batch_size=1)]
    batched = [
        p for r in inferencer(paths, batch_size=4) for p in r['predictions']
    ]
    assert len(batched) == len(single) == 9
    assert_same_poses(single, batched)


def test_batched_inferencer_refuses_float_images(inferencer):
    """A photo scaled to [0, 1] is refused, not predicted with scores
    1000x too low."""
    img = mmcv.imread(shared_photos()[0]).astype(np.float32) / 255
    with pytest.raises(ValueError, match=r'scaled to \[0, 1\]\?'):
        list(inferencer([img]))


def check_outputs(out_dir: str, names: list) -> None:
    """One drawn image (or video) and one JSON per input name."""
    assert sorted(os.listdir(osp.join(out_dir,
                                      'visualizations'))) == sorted(names)
    predictions = sorted(os.listdir(osp.join(out_dir, 'predictions')))
    assert predictions == sorted(f'{osp.splitext(n)[0]}.json' for n in names)
    for name in predictions:
        with open(osp.join(out_dir, 'predictions', name)) as f:
            assert json.load(f)


def test_demo_command_line_synthetic_folder(model_files, tmp_path):
    folder = str(tmp_path / 'images')
    write_images(folder, [(160, 160), (240, 120), (120, 200)])
    out_dir = str(tmp_path / 'out')
    # the project's config as it is, with the weights of the same model
    command = [
        sys.executable, SCRIPT, BASE_CONFIG, model_files[1], folder,
        '--out-dir', out_dir, '--batch-size', '2', '--device', 'cpu',
        '--kpt-thr', '0.1'
    ]
    proc = subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(os.environ, OMP_NUM_THREADS='1'),
        timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # mmengine's progress bar, and no per-file log line breaking it
    assert '] 3/3,' in proc.stdout
    assert 'has been saved' not in proc.stdout + proc.stderr
    check_outputs(out_dir,
                  ['synthetic_0.jpg', 'synthetic_1.jpg', 'synthetic_2.jpg'])


def check_demo_video(model_files, video: str, out_dir: str, capsys) -> None:
    demo.inference_demo(*model_files, video, out_dir, batch_size=2)
    frames = mmcv.VideoReader(video).frame_cnt
    assert f'] {frames}/{frames},' in capsys.readouterr().out
    name = osp.basename(video)
    check_outputs(out_dir, [name])
    drawn = mmcv.VideoReader(osp.join(out_dir, 'visualizations', name))
    assert drawn.frame_cnt == frames
    with open(
            osp.join(out_dir, 'predictions',
                     f'{osp.splitext(name)[0]}.json')) as f:
        assert len(json.load(f)) == frames


def test_demo_synthetic_video(model_files, tmp_path, capsys):
    video = str(tmp_path / 'synthetic.mp4')
    write_video(video, 5, (192, 128))
    check_demo_video(model_files, video, str(tmp_path / 'out'), capsys)


def test_demo_shared_video(model_files, tmp_path, capsys):
    folder = osp.join(SHARED_DATA, 'video')
    for name in sorted(os.listdir(folder)):
        check_demo_video(model_files, osp.join(folder, name),
                         str(tmp_path / osp.splitext(name)[0]), capsys)
