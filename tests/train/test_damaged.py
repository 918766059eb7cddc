"""A clip whose later frames do not decode is left out at scan time, naming it; one damaged after the scan stops the
run with one line naming it, also when a DataLoader worker process hit it."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from support.clips import astronaut_frames, make_clip

import dancegen.train.trainer as trainer
from dancegen.config import TrainSettings
from dancegen.train.data import ClipDataset, DataError, scan_clips, worker_message

TINY = dict(frames=4, size=(64, 64), device="cpu", steps=1)


def damage(video, keep: float = 0.6) -> None:
    """Zero the file's bytes after the first ``keep`` of it: every packet is still listed (the index is at the
    front), but the later frames no longer decode."""
    data = bytearray(video.read_bytes())
    cut = int(len(data) * keep)
    data[cut:] = bytes(len(data) - cut)
    video.write_bytes(bytes(data))


def test_a_clip_whose_last_frames_do_not_decode_is_skipped_at_scan_time(tmp_path, analyser):
    make_clip(tmp_path / "good", frames=10)
    damage(make_clip(tmp_path / "broken_tail", frames=10) / "video.mp4")
    clips, skipped = scan_clips(tmp_path, 4, analyser)
    assert [c.folder.name for c in clips] == ["good"]
    assert len(skipped) == 1 and skipped[0].startswith("broken_tail: video.mp4 does not decode to its last frame")
    assert "\n" not in skipped[0]


@pytest.mark.parametrize("workers", [0, 1])
def test_a_clip_damaged_after_the_scan_stops_the_run_with_one_line_naming_it(tmp_path, monkeypatch, workers):
    clip = make_clip(tmp_path / "clips" / "dancer", frames=10)
    scan = trainer.scan_clips

    def scan_then_damage(*args, **kwargs):
        found = scan(*args, **kwargs)
        damage(clip / "video.mp4")
        return found

    monkeypatch.setattr(trainer, "scan_clips", scan_then_damage)
    with pytest.raises(DataError) as caught:
        trainer.train(TrainSettings(workers=workers, **TINY), tmp_path / "clips", tmp_path / "out",
                      say=lambda line: None)
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message and "worker" not in message, message
    assert message.startswith("clip dancer: ") and "video.mp4" in message


def test_the_workers_traceback_gives_way_to_the_clips_line():
    text = ("Caught DataError in DataLoader worker process 0.\nOriginal Traceback (most recent call last):\n"
            '  File "x.py", line 1, in f\ndancegen.train.data.DataError: clip a: video.mp4 has no frame 9\n')
    assert worker_message(text) == "clip a: video.mp4 has no frame 9"
    assert worker_message("clip b: one line") == "clip b: one line"


def test_a_frames_folder_with_a_frame_of_another_size_names_the_clip(tmp_path, analyser):
    frames, poses = astronaut_frames(6)
    folder = tmp_path / "stills" / "frames"
    folder.mkdir(parents=True)
    for i, frame in enumerate(frames):
        Image.fromarray(frame).save(folder / f"{i}.png")
    np.save(tmp_path / "stills" / "poses.npy", poses)
    clips, _ = scan_clips(tmp_path, 4, analyser)
    for i in range(6):
        Image.fromarray(frames[i][:, :80]).save(folder / f"{i}.png")  # every frame changed after the scan
    with pytest.raises(DataError, match=r"^clip stills: frames/\d\.png is 80x96, but the first frame is 96x96"):
        ClipDataset(clips, frames=4, size=(64, 64), stride=1, seed=0)[0]
