"""Fixtures of the choreographer's tests: hand-built music (:mod:`handmade`) and bodies to dance with."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from dancegen.music import Section
from dancegen.pose.layout import body_from_face


@pytest.fixture(scope="session")
def music44():
    """30 s at 120 BPM in 4/4 (beats every 0.5 s = 12 frames at 24 fps), a pick-up beat, an accent every bar."""
    from choreo.handmade import hand_music

    beats = 0.5 + 0.5 * np.arange(62)
    return hand_music(beats, 30.0, 4, onset=lambda t: 0.9 * (np.abs(((t - 1.0) % 2.0)) < 0.03), downbeat_offset=1)


@pytest.fixture(scope="session")
def music34():
    """30 s at 90 BPM in 3/4 (beats every 2/3 s = 16 frames at 24 fps)."""
    from choreo.handmade import hand_music

    beats = (2 / 3) * np.arange(1, 45)
    return hand_music(beats, 30.0, 3)


@pytest.fixture(scope="session")
def aba(music44):
    """music44 with sections A (quiet) B (loud) A: A starts on beat 1 (t = 1.0), B at 9.0, A again at 17.0."""
    from choreo.handmade import hand_music

    rms = lambda t: np.where((t >= 9.0) & (t < 17.0), 0.9, 0.4)  # noqa: E731
    m = hand_music(music44.beats_s, 30.0, 4, rms=rms, downbeat_offset=1)
    return dataclasses.replace(m, sections=(Section("A", 0.0, 9.0), Section("B", 9.0, 17.0),
                                            Section("A", 17.0, 30.0)))


@pytest.fixture(scope="session")
def whole():
    """A whole-body framing on a 320 x 576 canvas with room around the dancer."""
    return body_from_face((140, 90, 168, 124), (320, 576), (320, 576))


@pytest.fixture(scope="session")
def close_up():
    """The photo's scale for a head-and-shoulders photo: hips and legs below the canvas."""
    return body_from_face((180, 60, 272, 180), (512, 512), (256, 256), fit="clip")
