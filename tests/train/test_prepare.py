"""dancegen prepare: raw videos -> clips the trainer accepts, each video it cannot use named with the reason.

No DWPose weights exist here, so the detector runs on stand-in ONNX models of the right shapes (the detector finds
no person, so the whole frame is the box, and every keypoint lands at the crop's centre): the real onnxruntime
path, with poses that mean nothing."""

import numpy as np
from support.clips import astronaut_frames
from support.media import moving_squares
from support.onnx_models import stand_in_dwpose

from dancegen.cli.prepare import main
from dancegen.io.read import count_frames
from dancegen.io.video import write_mp4
from dancegen.train.data import scan_clips


def raw_videos(folder):
    folder.mkdir()
    video, _ = astronaut_frames(8)
    write_mp4(np.concatenate([video, video[:, :, ::-1]], axis=2), 8, folder / "dancer.mp4")  # 96 x 192
    write_mp4(moving_squares(6, 64, 64), 8, folder / "squares.mp4")  # no face
    (folder / "broken.mov").write_bytes(b"not a video at all")
    (folder / "notes.txt").write_text("not a video, not looked at")
    return folder


def test_prepare_makes_clips_the_trainer_uses(tmp_path, capsys, analyser):
    videos, out = raw_videos(tmp_path / "raw"), tmp_path / "clips"
    weights = stand_in_dwpose(tmp_path / "checkpoints")
    status = main(["--videos", str(videos), "--out", str(out), "--weights", str(weights), "--max-side", "128"])
    err = capsys.readouterr().err
    assert status == 0, err
    assert "skipped broken.mov: the video cannot be read" in err
    assert "skipped squares.mp4: the first frame (the clip's reference) has no usable face" in err
    assert sorted(p.name for p in out.iterdir()) == ["dancer"]
    clip = out / "dancer"
    assert sorted(p.name for p in clip.iterdir()) == ["face.offline.npy", "face_boxes.npy", "poses.npy", "video.mp4"]
    assert count_frames(clip / "video.mp4") == (8, 128, 64)  # shrunk to a longer side of 128
    poses, boxes = np.load(clip / "poses.npy"), np.load(clip / "face_boxes.npy")
    assert poses.shape == (8, 18, 3) and np.allclose(poses[:, :, 2], [0.7] + [1.0] + [0.7] * 16)  # neck: 1
    assert boxes.shape == (8, 4) and np.isfinite(boxes).all() and (boxes[:, 2] <= 128).all()
    clips, skipped = scan_clips(out, 4, analyser)
    assert [c.folder.name for c in clips] == ["dancer"] and skipped == []
    # a second run leaves the finished clip alone
    assert main(["--videos", str(videos), "--out", str(out), "--weights", str(weights)]) == 0
    assert "kept dancer.mp4" in capsys.readouterr().err


def test_without_dwpose_every_video_is_skipped_with_the_reason(tmp_path, capsys):
    videos = raw_videos(tmp_path / "raw")
    status = main(["--videos", str(videos), "--out", str(tmp_path / "clips")])
    err = capsys.readouterr().err.splitlines()
    assert status == 2
    skipped = [line for line in err if line.startswith("skipped ")]
    assert len(skipped) == 3 and all("no DWPose weights" in line for line in skipped)
    errors = [line for line in err if line.startswith("error:")]
    assert len(errors) == 1 and "no video could be prepared" in errors[0]
    assert not (tmp_path / "clips").exists()


def test_videos_that_share_a_name_get_a_clip_folder_each(tmp_path, capsys):
    videos, out = tmp_path / "raw", tmp_path / "clips"
    videos.mkdir()
    frames, _ = astronaut_frames(4)
    write_mp4(frames, 8, videos / "a.mp4")  # 96 x 96
    write_mp4(np.concatenate([frames, frames], axis=2), 8, videos / "a.mov")  # 192 x 96: another video
    write_mp4(frames, 8, videos / "a-mp4.mkv")  # its stem is the name the first would get
    weights = stand_in_dwpose(tmp_path / "checkpoints")
    assert main(["--videos", str(videos), "--out", str(out), "--weights", str(weights)]) == 0
    err = capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["a-mov", "a-mp4", "a-mp4-2"]
    assert f"prepared a.mov -> {out / 'a-mov'}" in err and f"prepared a.mp4 -> {out / 'a-mp4-2'}" in err
    assert f"prepared a-mp4.mkv -> {out / 'a-mp4'}" in err
    assert count_frames(out / "a-mov" / "video.mp4") == (4, 192, 96)
    assert count_frames(out / "a-mp4-2" / "video.mp4") == (4, 96, 96)
    # run again: each finished clip is kept, none is mistaken for another
    assert main(["--videos", str(videos), "--out", str(out), "--weights", str(weights)]) == 0
    assert capsys.readouterr().err.count("kept ") == 3
