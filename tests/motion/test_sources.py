"""Reading a motion: OpenPose folders and zips (BODY_25 and COCO-18) and poses.npy, one person followed through two
crossing, and every bad source one line."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
from support.motion import dancer, openpose_frame, write_openpose

from dancegen.motion.errors import MotionError
from dancegen.motion.sources import read_motion
from dancegen.pose.topology import J


def test_openpose_body25_folder_coco18_zip_and_npy_give_the_same_poses(tmp_path):
    truth = dancer(12)
    body25 = write_openpose(tmp_path / "b25", [[p] for p in truth], "BODY_25")
    coco = write_openpose(tmp_path / "coco", [[p] for p in truth], "COCO")
    with zipfile.ZipFile(tmp_path / "coco.zip", "w") as z:
        for f in sorted(coco.iterdir(), reverse=True):  # the zip's order is not the frames'
            z.write(f, f"coco/{f.name}")
    np.save(tmp_path / "poses.npy", truth.astype(np.float32))
    scored = np.concatenate([truth, np.full((12, 18, 1), 0.8)], axis=2)
    scored[5, J["RWrist"], 2] = 0.1  # a joint seen too weakly: not seen
    np.save(tmp_path / "scored.npy", scored.astype(np.float32))
    for source in (body25, tmp_path / "coco.zip", tmp_path / "poses.npy"):
        clip = read_motion(source, fps=25)
        assert clip.poses.shape == (12, 18, 2) and clip.found.all()
        assert np.allclose(clip.poses, truth, atol=1e-3), source.name
        assert clip.ref.frames == 12 and clip.ref.fps == 25.0 and clip.ref.name == source.name
    clip = read_motion(tmp_path / "scored.npy")
    assert np.isnan(clip.poses[5, J["RWrist"]]).all() and clip.ref.fps == 30.0
    assert read_motion(body25).ref.sha256 != read_motion(coco).ref.sha256  # a folder's digest is its files'
    assert read_motion(body25).ref.kind == "openpose" and clip.ref.kind == "poses"


def test_frames_are_taken_in_the_order_of_their_numbers(tmp_path):
    truth = dancer(12, travel=100.0)
    folder = tmp_path / "op"
    folder.mkdir()
    for i, p in enumerate(truth):  # unpadded numbers: 10 sorts before 2 as text
        (folder / f"f_{i}_keypoints.json").write_text(json.dumps(openpose_frame([p])))
    assert np.allclose(read_motion(folder).poses, truth, atol=1e-3)


def test_two_people_crossing_the_tracked_one_is_kept(tmp_path):
    n = 40
    grow = np.linspace(1.0, 0.6, n)[:, None, None]  # the larger one at the start walks right and away...
    right = dancer(n, head=24.0, x0=60.0, travel=240.0)
    right = right[:, :1] + (right - right[:, :1]) * grow
    left = dancer(n, head=20.0, x0=300.0, travel=-240.0, swing=0.2)  # ...past one walking left and nearer
    left = left[:, :1] + (left - left[:, :1]) / grow
    frames = [[left[t], right[t]] if t % 2 else [right[t], left[t]] for t in range(n)]  # listed in either order
    clip = read_motion(write_openpose(tmp_path / "two", frames))
    assert clip.most_people == 2 and clip.found.all()
    assert np.allclose(clip.poses, right, atol=1e-3)
    # two alike dancers crossing between two frames: the nearer to where each was is the other one; where the
    # followed one was heading is the followed one
    a = dancer(n, head=20.2, x0=100.0, travel=240.0)
    b = dancer(n, head=20.0, x0=264.0, travel=-240.0)  # they meet at frame 10.25
    clip = read_motion(write_openpose(tmp_path / "alike", [[b[t], a[t]] for t in range(n)]))
    assert np.allclose(clip.poses, a, atol=1e-3)


def test_bad_sources_are_one_line(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "f_0.json").write_text("{nope")
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "f_0.json").write_text(json.dumps({"people": [{"pose_keypoints_2d": [1, 2, 3]}]}))
    (tmp_path / "notop").mkdir()
    (tmp_path / "notop" / "f_0.json").write_text(json.dumps({"frames": []}))
    write_openpose(tmp_path / "nobody", [[] for _ in range(5)])
    np.save(tmp_path / "wrong.npy", np.zeros((10, 17, 2), np.float32))
    np.save(tmp_path / "nan.npy", np.full((10, 18, 2), np.nan, np.float32))
    (tmp_path / "broken.mp4").write_bytes(b"not a video at all")
    (tmp_path / "broken.zip").write_bytes(b"not a zip")
    (tmp_path / "notes.txt").write_text("hi")
    cases = {"empty": "no OpenPose JSON files", "bad": "is not JSON", "odd": r"75 \(BODY_25\) or 54",
             "notop": "not an OpenPose frame", "nobody": "nobody was found", "wrong.npy": r"\[T, 18, 2\]",
             "nan.npy": "nobody was found", "broken.mp4": "cannot be read", "broken.zip": "cannot be read",
             "notes.txt": "must be a video", "missing.mp4": "not found"}
    for name, message in cases.items():
        with pytest.raises(MotionError, match=message) as info:
            read_motion(tmp_path / name)
        assert "\n" not in str(info.value), name


def test_a_lone_dancer_is_found_again_after_frames_with_nobody(tmp_path):
    n = 150
    d = dancer(n, head=20.0, x0=100.0)
    x = np.concatenate([np.linspace(0, 150, 30), np.linspace(150, 0, 30), np.zeros(90)])  # right, then back
    d = d + np.stack([x, np.zeros(n)], axis=1)[:, None, :]
    frames = [[] if 25 <= t < 45 else [d[t]] for t in range(n)]  # 0.67 s with nobody, mid-walk
    clip = read_motion(write_openpose(tmp_path / "gap", frames))
    assert clip.found[45:].all() and not clip.found[25:45].any()
    assert np.allclose(clip.poses[45:], d[45:], atol=1e-3)


@pytest.mark.parametrize("fps", [0.0, -5.0, float("inf"), 1e308, float("nan")])
def test_a_pose_files_rate_out_of_range_is_one_line(tmp_path, fps):
    path = tmp_path / "poses.npy"
    np.save(path, dancer(30).astype(np.float32))
    with pytest.raises(MotionError, match=r"^the pose files' frame rate must be a number above 0 and at most 240"):
        read_motion(path, fps=fps)
