"""Fixtures of the app tests: one tiny-preset studio and the photo and music files every handler is tried with."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import PIL.Image
import pytest
from support.audio_synth import synth_track, write_wav
from support.paths import ASTRONAUT

from dancegen.config import StudioConfig
from dancegen.studio import DanceStudio

SR = 22050


@pytest.fixture(scope="package")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("inputs")
    out = {}
    for name, bpm, seconds in (("short", 120, 3.0), ("long", 120, 5.0)):
        samples, _, _ = synth_track(bpm, seconds, sr=SR)
        write_wav(d / f"{name}.wav", samples, SR)
        out[name] = d / f"{name}.wav"
    write_wav(d / "silent.wav", np.zeros(3 * SR, dtype=np.float32), SR)
    out["silent"] = d / "silent.wav"
    (d / "corrupt.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt this is not audio" + bytes(200))
    out["corrupt_music"] = d / "corrupt.wav"
    ramp = np.linspace(0, 255, 256, dtype=np.uint8)
    gradient = np.stack([np.tile(ramp, (256, 1)), np.tile(ramp[:, None], (1, 256)), np.full((256, 256), 90, np.uint8)],
                        axis=-1)  # [256, 256, 3]: smooth colour ramps, no face
    PIL.Image.fromarray(gradient).save(d / "gradient.png")
    out["no_face"] = d / "gradient.png"
    (d / "corrupt.png").write_bytes(ASTRONAUT.read_bytes()[:3000])  # a truncated PNG
    out["corrupt_photo"] = d / "corrupt.png"
    (d / "notes.png").write_text("these are not the pixels you are looking for\n" * 20)
    out["text_photo"] = d / "notes.png"
    return out


@pytest.fixture(scope="package")
def studio(tmp_path_factory) -> DanceStudio:
    return DanceStudio(StudioConfig(output_root=str(tmp_path_factory.mktemp("outputs"))))
