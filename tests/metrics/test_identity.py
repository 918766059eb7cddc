"""Identity metrics: cosine similarity and per-frame face similarity to the reference (offline face models)."""

from __future__ import annotations

import importlib
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
        np.stack([np.asarray(importlib.import_module("skimage.data").camera())] * 3, -1),
    ]
    sims = frame_similarities(analyser, frames, astro_ref)
    assert sims.shape == (4,)
    assert sims[0] > 0.99 and sims[1] > 0.6 and np.isnan(sims[2]) and sims[3] < 0.35
    np.testing.assert_allclose(frame_similarities(analyser, frames[:1], astro_ref.embedding), sims[:1])
    fake = dataclasses.replace(astro_ref, source="antelopev2")
    with pytest.raises(ValueError, match="cannot be compared"):
        frame_similarities(analyser, frames, fake)


def test_identity_meter_streams_counts_missing_faces_and_measures_stability(analyser, astronaut, astro_ref):
    """Six frames in chunks of two: the photo, its mirror image, a blank frame, the camera man twice, the photo. The
    blank frame is a counted miss (not dropped); stability compares the faces of neighbouring scored frames with
    each other (the camera man is stable, though not the person of the photo), not with the photo."""
    from dancegen.metrics.identity import IdentityMeter, identity_similarity

    camera = np.stack([importlib.import_module("skimage.data").camera()] * 3, -1)  # [512, 512, 3]
    frames = np.stack([np.asarray(astronaut), np.asarray(astronaut.transpose(Image.Transpose.FLIP_LEFT_RIGHT)),
                       np.full((512, 512, 3), 77, np.uint8), camera, camera, np.asarray(astronaut)])  # [6, 512, 512, 3]
    meter = IdentityMeter(analyser, astro_ref, len(frames))
    for start in range(0, 6, 2):
        meter.add(start, frames[start:start + 2])
    score = meter.score()
    assert score.model == "w600k_mbf" and score.frame_index == [0, 1, 2, 3, 4, 5]
    sims = score.similarity
    assert sims[0] > 0.99 and sims[1] > 0.6 and sims[2] is None and sims[3] < 0.35 and sims[5] > 0.99
    assert score.face_found == pytest.approx(5 / 6, abs=1e-4)
    assert score.mean == pytest.approx(np.mean([s for s in sims if s is not None]), abs=1e-3)
    mirrored, gone_a, gone_b, same_man, changed = score.stability
    assert mirrored > 0.6 and gone_a is None and gone_b is None
    assert same_man > 0.99 and changed < 0.35  # the same face twice; then another person: drift
    assert score.stability_mean == pytest.approx((mirrored + same_man + changed) / 3, abs=1e-3)
    assert identity_similarity(analyser, frames, astro_ref) == score  # chunking changes nothing


def test_every_face_model_judges_and_the_offline_one_always_does(analyser, astronaut, astro_ref,
                                                                  stand_in_antelopev2):
    from dancegen.metrics.report import GenerationMetrics

    frames = np.stack([np.asarray(astronaut)] * 2 + [np.full((512, 512, 3), 77, np.uint8)])  # [3, 512, 512, 3]
    poses = np.zeros((3, 18, 2))
    judges = [(analyser, astro_ref), (stand_in_antelopev2, stand_in_antelopev2.analyse(astronaut))]
    metrics = GenerationMetrics(["identity"], 3, 8.0, (512, 512), [], poses, judges)
    metrics.add(0, {"identity": frames}, np.zeros((3, 512, 512, 3), np.uint8))
    report = metrics.report()
    assert report["face_models"] == ["w600k_mbf", "glintr100"]
    row = report["videos"]["identity"]
    for model in report["face_models"]:
        assert row[f"csim_{model}"] > 0.9 and row[f"face_rate_{model}"] == pytest.approx(2 / 3, abs=1e-4)
        assert report["per_frame"]["identity"][f"csim_{model}"][2] is None  # the blank frame: a counted miss
    with pytest.raises(ValueError, match="offline face models must judge"):
        GenerationMetrics(["identity"], 3, 8.0, (512, 512), [], poses, judges[1:])
    no_face = GenerationMetrics(["identity"], 3, 8.0, (512, 512), [], poses, [(analyser, None)]).report()
    assert no_face["videos"]["identity"]["csim_w600k_mbf"] is None and any("no face in the photo" in n
                                                                           for n in no_face["notes"])


def test_a_null_similarity_or_stability_says_why(analyser, astronaut, astro_ref):
    """A video where no scored frame has a face (the tiny preset's random pictures), and one where only one does:
    the nulls come with a note naming the model and the video."""
    from dancegen.metrics.report import GenerationMetrics

    blank = np.full((512, 512, 3), 77, np.uint8)
    frames = {"baseline": np.stack([blank] * 3), "identity": np.stack([np.asarray(astronaut), blank, blank])}
    metrics = GenerationMetrics(["baseline", "identity"], 3, 8.0, (512, 512), [], np.zeros((3, 18, 2)),
                                [(analyser, astro_ref)])
    metrics.add(0, frames, np.zeros((3, 512, 512, 3), np.uint8))
    report = metrics.report()
    baseline, identity = report["videos"]["baseline"], report["videos"]["identity"]
    assert baseline["csim_w600k_mbf"] is None and baseline["face_rate_w600k_mbf"] == 0
    assert identity["csim_w600k_mbf"] > 0.9 and identity["stability_w600k_mbf"] is None
    notes = " | ".join(report["notes"])
    assert "w600k_mbf found no face in any of the 3 scored frames of the baseline video" in notes
    assert "w600k_mbf found a face in only one scored frame of the identity video" in notes
