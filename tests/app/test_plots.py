"""The tables behind the app's music and similarity plots."""

from __future__ import annotations

import numpy as np

from dancegen.app import text as T
from dancegen.app.plots import SIMILARITY_COLORS, music_plot_table, similarity_view


def test_music_plot_downbeats_are_taller(studio, files):
    analysis = studio.analyse_music(files["long"], 0.0, 5.0)
    table = music_plot_table(analysis, max_points=50)
    spikes = table[(table[T.PLOT_CURVE] == T.CURVE_BEATS) & (table[T.PLOT_LEVEL] > 0)]
    tall = spikes[spikes[T.PLOT_LEVEL] == 1.0][T.PLOT_TIME].to_numpy()
    np.testing.assert_allclose(tall, analysis.downbeats_s, atol=1e-9)
    assert len(table[table[T.PLOT_CURVE] == T.CURVE_ENERGY]) <= 50  # envelopes thinned for the browser


def test_similarity_view_plots_frames_with_a_face_and_the_means():
    report = {"baseline": {"frame_index": [0, 4, 8], "similarity": [0.2, None, 0.4], "mean": 0.3, "face_found": 2 / 3},
              "identity": {"frame_index": [0, 4, 8], "similarity": [0.5, 0.6, 0.7], "mean": 0.6, "face_found": 1.0}}
    table, text = similarity_view(report)
    assert len(table) == 5  # the frame without a face is left out
    assert set(table[T.SIMILARITY_VIDEO]) == set(SIMILARITY_COLORS) == {"baseline", "identity"}
    assert "baseline 0.30 (face in 67% of frames)" in text and "identity 0.60 (face in 100% of frames)" in text
    report["baseline"] = {"frame_index": [0, 4], "similarity": [None, None], "mean": None, "face_found": 0.0}
    table, text = similarity_view(report)
    assert set(table[T.SIMILARITY_VIDEO]) == {"identity"}
    assert "baseline: no face detected in generated frames" in text
    report["identity"] = report["baseline"]
    assert similarity_view(report) == (None, T.NO_FACE_IN_GENERATED)
