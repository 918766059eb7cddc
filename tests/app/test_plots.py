"""The tables behind the app's music and similarity plots."""

from __future__ import annotations

import numpy as np

from dancegen.app import text as T
from dancegen.app.plots import SIMILARITY_COLORS, metrics_table, music_plot_table, similarity_view


def test_music_plot_downbeats_are_taller(studio, files):
    analysis = studio.analyse_music(files["long"], 0.0, 5.0)
    table = music_plot_table(analysis, max_points=50)
    spikes = table[(table[T.PLOT_CURVE] == T.CURVE_BEATS) & (table[T.PLOT_LEVEL] > 0)]
    tall = spikes[spikes[T.PLOT_LEVEL] == 1.0][T.PLOT_TIME].to_numpy()
    np.testing.assert_allclose(tall, analysis.downbeats_s, atol=1e-9)
    assert len(table[table[T.PLOT_CURVE] == T.CURVE_ENERGY]) <= 50  # envelopes thinned for the browser


def metrics(baseline_sims, identity_sims) -> dict:
    """report["metrics"] of an A/B run with three scored frames, in the layout of dancegen.metrics."""
    def row(sims):
        found = [s for s in sims if s is not None]
        return {"csim_w600k_mbf": sum(found) / len(found) if found else None,
                "face_rate_w600k_mbf": len(found) / len(sims), "stability_w600k_mbf": None,
                "beat_alignment_planned": 0.61, "beat_alignment_generated": None, "body_rate": None,
                "flicker": 2.5, "still_fraction": 0.7, "psnr": None, "ssim": None, "lpips": None, "gt_frames": None}
    return {"face_models": ["w600k_mbf"], "scored_frames": [0, 4, 8],
            "videos": {"identity": row(identity_sims), "baseline": row(baseline_sims)},
            "per_frame": {"baseline": {"csim_w600k_mbf": baseline_sims}, "identity": {"csim_w600k_mbf": identity_sims}},
            "notes": ["no ground-truth video was given"]}


def test_similarity_view_plots_frames_with_a_face_and_the_means():
    table, text = similarity_view(metrics([0.2, None, 0.4], [0.5, 0.6, 0.7]))
    assert len(table) == 5  # the frame without a face is left out
    assert set(table[T.SIMILARITY_VIDEO]) == set(SIMILARITY_COLORS) == {"baseline", "identity"}
    assert "baseline 0.30 (face in 67% of frames)" in text and "identity 0.60 (face in 100% of frames)" in text
    table, text = similarity_view(metrics([None, None, None], [0.5, 0.6, 0.7]))
    assert set(table[T.SIMILARITY_VIDEO]) == {"identity"}
    assert "baseline: no face detected in generated frames" in text
    table, text = similarity_view(metrics([None, None, None], [None, None, None]))
    assert table is None and text.startswith(T.NO_FACE_IN_GENERATED)


def test_metrics_table_has_a_column_per_video_and_says_what_is_missing():
    text = metrics_table(metrics([0.2, None, 0.4], [0.5, 0.6, 0.7]))
    lines = text.splitlines()
    assert lines[0] == "| metric | baseline | identity |"  # the baseline first, whatever the report's order
    assert "| Identity similarity to the photo (w600k_mbf) | 0.300 | 0.600 |" in lines
    assert "| Frames with a face (w600k_mbf) | 67% | 100% |" in lines
    assert f"| Identity stability, frame to frame (w600k_mbf) | {T.METRICS_MISSING} | {T.METRICS_MISSING} |" in lines
    assert "| Flicker where the dance is still (grey levels) | 2.50 | 2.50 |" in lines
    assert not any("PSNR" in line for line in lines)  # measured for no video: left out, and the note says why
    assert lines[-1] == T.METRICS_NOTE.format(text="no ground-truth video was given")
