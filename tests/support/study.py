"""Test helpers of the studies: input folders with known content, counting the studio's generate calls, a plan.

A study cell in the tests is the tiny preset at 64 x 64, one denoising step, 2 s of music at 4 fps (8 frames).
"""

from __future__ import annotations

import collections
import dataclasses
from pathlib import Path

import numpy as np
import PIL.Image
import PIL.ImageOps
from support.audio_synth import synth_track, write_wav
from support.paths import ASTRONAUT

from dancegen.config import GenerationSettings

SR = 22050
CELL = dict(seconds=2.0, steps=1, size=(64, 64), fps=4.0, output_fps=4.0)  # the request settings every study test
# shares (written at the generation rate)


def make_inputs(folder: Path, faces: int = 2, songs: int = 2, failing: bool = True) -> tuple[Path, Path]:
    """photos/ (the astronaut, a mirrored and cropped copy, and with ``failing`` a wall with no face) and music/
    (drum tracks of 2.5 s, and with ``failing`` a file that is not audio) -> (photos, music)."""
    photos, music = folder / "photos", folder / "music"
    photos.mkdir(parents=True)
    music.mkdir(parents=True)
    with PIL.Image.open(ASTRONAUT) as im:
        astronaut = im.convert("RGB")
    faces_made = [astronaut, PIL.ImageOps.mirror(astronaut).crop((40, 0, 512, 472))]
    for i, image in enumerate(faces_made[:faces]):
        image.save(photos / f"person{i}.png")
    for i, bpm in enumerate((110, 128)[:songs]):
        samples, _, _ = synth_track(bpm, 2.5, sr=SR, style="drums", seed=i)
        write_wav(music / f"song{i}.wav", samples, SR)
    if failing:
        PIL.Image.fromarray(np.full((200, 200, 3), (90, 120, 150), np.uint8)).save(photos / "wall.png")
        (music / "broken.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt this is not audio" + bytes(200))
    return photos, music


class CountedStudio:
    """Counts the real studio's generate calls (mode of each) while passing them through unchanged."""

    def __init__(self, studio, monkeypatch):
        self.calls: list[GenerationSettings] = []
        real = studio.generate

        def generate(photo, music, settings=GenerationSettings(), *args, **kwargs):
            self.calls.append(settings)
            return real(photo, music, settings, *args, **kwargs)

        monkeypatch.setattr(studio, "generate", generate)

    def modes(self) -> collections.Counter:
        return collections.Counter(str(s.mode) for s in self.calls)


@dataclasses.dataclass
class StudyRun:
    folder: Path  # the study folder
    plan: object  # the StudyPlan
    outcome: object  # the first run's Outcome
    calls: list  # settings of every studio.generate call of the first run
    lines: list[str]  # what the run logged


def plan_of(photos: Path, music: Path, studio, alphas=(0.0, 1.0), tokens=(None,), baseline=None):
    from dancegen.study.grid import MUSIC_SUFFIXES, PHOTO_SUFFIXES, input_files, make_plan

    return make_plan(input_files(photos, PHOTO_SUFFIXES, "photo"), input_files(music, MUSIC_SUFFIXES, "music"),
                     alphas, tokens, GenerationSettings(**CELL), studio.config, baseline)


