"""Training clips: checking them (a clear reason naming each clip left out, the rest used), the sample stream, and
what one sample holds."""

import os

import numpy as np
import pytest
from PIL import Image
from support.clips import astronaut_frames, make_clip
from support.media import moving_squares

from dancegen.io.video import write_mp4
from dancegen.train.data import ClipDataset, DataError, PositionSampler, scan_clips, window_indices


@pytest.fixture(scope="module")
def mixed_data(tmp_path_factory):
    """Two good clips (a video with face boxes; a frames/ folder with reference.png) and six bad ones."""
    root = tmp_path_factory.mktemp("mixed")
    make_clip(root / "good_video", frames=8)
    frames, poses = astronaut_frames(6, seed=1)
    (root / "good_frames" / "frames").mkdir(parents=True)
    for i, frame in enumerate(frames):  # frame_2 sorts before frame_10 by number, not by name
        Image.fromarray(frame).save(root / "good_frames" / "frames" / f"frame_{i * 5}.png")
    np.save(root / "good_frames" / "poses.npy", np.concatenate([poses, np.ones((6, 18, 1), np.float32)], axis=2))
    Image.fromarray(frames[3]).save(root / "good_frames" / "reference.png")
    make_clip(root / "no_poses", frames=6, boxes=False)
    (root / "no_poses" / "poses.npy").unlink()
    make_clip(root / "too_few_poses", frames=6, boxes=False)
    np.save(root / "too_few_poses" / "poses.npy", np.zeros((5, 18, 2), np.float32))
    make_clip(root / "broken_video", frames=6, boxes=False)
    (root / "broken_video" / "video.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(200))
    make_clip(root / "bad_pose_shape", frames=6, boxes=False)
    np.save(root / "bad_pose_shape" / "poses.npy", np.zeros((6, 17, 2), np.float32))
    (root / "faceless").mkdir()
    write_mp4(moving_squares(6, 64, 64), 8, root / "faceless" / "video.mp4")
    np.save(root / "faceless" / "poses.npy", np.zeros((6, 18, 2), np.float32))
    make_clip(root / "too_short", frames=3, boxes=False)
    (root / "empty").mkdir()
    return root


def test_bad_clips_are_named_with_their_reason_and_the_rest_is_used(mixed_data, analyser):
    clips, skipped = scan_clips(mixed_data, 4, analyser)
    assert [c.folder.name for c in clips] == ["good_frames", "good_video"]
    reasons = dict(line.split(": ", 1) for line in skipped)
    assert set(reasons) == {"no_poses", "too_few_poses", "broken_video", "bad_pose_shape", "faceless", "too_short",
                            "empty"}
    assert "missing poses.npy" in reasons["no_poses"]
    assert reasons["too_few_poses"] == "frame count mismatch: poses.npy has 5 poses but video.mp4 has 6 frames"
    assert "video.mp4 cannot be read" in reasons["broken_video"]
    assert "[6, 17, 2]" in reasons["bad_pose_shape"]
    assert "no face found in the reference" in reasons["faceless"]
    assert "only 3 frames" in reasons["too_short"]
    assert "no video.mp4 and no frames/" in reasons["empty"]
    # the face embedding was detected once and cached beside the clip
    cache = mixed_data / "good_video" / "face.offline.npy"
    cached = np.load(cache)
    assert cached.shape == (512,) and np.allclose(cached, clips[1].embedding)
    np.save(cache, np.ones(512, np.float32))  # a cache that is read as it is while it is newer than the video...
    assert np.all(scan_clips(mixed_data, 4, analyser)[0][1].embedding == 1)
    os.utime(cache, (0, 0))  # ...and detected again once the video is newer (a changed reference)
    assert np.allclose(scan_clips(mixed_data, 4, analyser)[0][1].embedding, cached)
    video = clips[1]
    assert video.first == 1 and video.face_boxes.shape == (8, 4)
    assert clips[0].reference is not None and [p.name for p in clips[0].frame_files][:3] == [
        "frame_0.png", "frame_5.png", "frame_10.png"]


def test_no_usable_clip_is_one_clear_error(tmp_path, analyser):
    make_clip(tmp_path / "lonely", frames=6, boxes=False)
    (tmp_path / "lonely" / "poses.npy").unlink()
    with pytest.raises(DataError, match="no usable training clips .* lonely: missing poses.npy"):
        scan_clips(tmp_path, 4, analyser)
    with pytest.raises(DataError, match="not found"):
        scan_clips(tmp_path / "nowhere", 4, analyser)


def test_samples_are_a_pure_function_of_seed_and_position(mixed_data, analyser):
    clips, _ = scan_clips(mixed_data, 4, analyser)
    data = ClipDataset(clips, frames=4, size=(64, 64), stride=2, seed=5)
    first, again = data[3], data[3]
    assert all(np.array_equal(first[k], again[k]) for k in first)
    assert first["pixels"].shape == (4, 3, 64, 64) and first["poses"].shape == (4, 3, 64, 64)
    assert first["pixels"].min() >= -1 and first["pixels"].max() <= 1 and first["poses"].max() > 0
    other = ClipDataset(clips, frames=4, size=(64, 64), stride=2, seed=6)
    assert not all(np.array_equal(first[k], other[3][k]) for k in ("pixels", "seed"))
    # every pass over the data visits each clip once
    assert sorted(data.clip_of(p).folder.name for p in range(4, 6)) == ["good_frames", "good_video"]
    # the face mask marks the face boxes of the clip that has them, scaled to the training size
    masked = next(data[p] for p in range(6) if data.clip_of(p).face_boxes is not None)
    assert 0 < float(masked["face_mask"].mean()) < 0.3
    # with frame 0 as the reference, windows skip it; stride 4 over 7 usable frames squeezes to even steps
    video = next(c for c in clips if c.folder.name == "good_video")
    for seed in range(5):
        picks = window_indices(video, 4, 4, np.random.default_rng(seed))
        assert picks[0] >= 1 and picks == sorted(picks) and len(picks) == 4 and picks[-1] <= 7


def test_two_processes_draw_what_one_process_with_twice_the_batch_draws():
    def first(sampler, n):
        it = iter(sampler)
        return [next(it) for _ in range(n)]

    one = first(PositionSampler(3, batch=2, rank=0, world=1), 6)
    two = [first(PositionSampler(3, batch=1, rank=r, world=2), 3) for r in range(2)]
    assert one == [6, 7, 8, 9, 10, 11] and two == [[6, 8, 10], [7, 9, 11]]
