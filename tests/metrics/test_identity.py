"""Identity metrics: cosine similarity and per-frame face similarity to the reference (offline face models)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PIL import Image

from dancegen.metrics.identity import cosine_similarity, frame_similarities


def test_cosine_similarity():
    a = np.array([1.0, 2.0, 3.0])
    assert cosine_similarity(a, 5 * a) == pytest.approx(1.0)
    assert cosine_similarity(a, -a) == pytest.approx(-1.0)
    assert cosine_similarity([1, 0], [0, 3]) == pytest.approx(0.0)
    assert np.isnan(cosine_similarity([0, 0], [1, 1]))
    with pytest.raises(ValueError):
        cosine_similarity([1, 2], [1, 2, 3])


def test_frame_similarities(analyser, astronaut, astro_ref, camera_ref):
    frames = [
        np.asarray(astronaut),
        astronaut.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
        np.full((256, 256, 3), 77, np.uint8),
        np.stack([np.asarray(pytest.importorskip("skimage.data").camera())] * 3, -1),
    ]
    sims = frame_similarities(analyser, frames, astro_ref)
    assert sims.shape == (4,)
    assert sims[0] > 0.99 and sims[1] > 0.6 and np.isnan(sims[2]) and sims[3] < 0.35
    np.testing.assert_allclose(frame_similarities(analyser, frames[:1], astro_ref.embedding), sims[:1])
    fake = dataclasses.replace(astro_ref, source="antelopev2")
    with pytest.raises(ValueError, match="cannot be compared"):
        frame_similarities(analyser, frames, fake)
