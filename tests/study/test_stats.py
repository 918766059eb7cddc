"""The study's table and statistics on inputs with known answers: paired comparison (photo bootstrap interval,
Wilcoxon, Holm's adjustment), the exact binomial preference interval, any per-video metric of the report becoming
a column, part files merged into one row per cell, and a summary and plots with numbers in them."""

from __future__ import annotations

import json

import numpy as np
import PIL.Image
import pytest
from scipy import stats as sps

from dancegen.config import GenerationSettings, StudioConfig
from dancegen.study import stats
from dancegen.study.grid import make_plan, pairs_of, share
from dancegen.study.plots import draw
from dancegen.study.summary import SUMMARY, metric_columns, render, write_summary
from dancegen.metrics import OFFLINE_JUDGE
from dancegen.study.table import CSIM, FACE_RATE, PARTS, PartFile, cell_row, flatten, merge, read_results


def test_paired_comparison_known_answers():
    rng = np.random.default_rng(0)
    base = rng.normal(0.5, 0.1, 8)
    same_shift = stats.paired(base, base + 0.05)
    assert same_shift.n == 8 and same_shift.difference == pytest.approx(0.05)
    assert same_shift.ci_low == pytest.approx(0.05) and same_shift.ci_high == pytest.approx(0.05)
    assert same_shift.p_value == pytest.approx(2 / 2 ** 8)  # exact Wilcoxon: all 8 differences positive
    noisy = stats.paired(base, base + 0.05 + rng.normal(0, 0.02, 8))
    diffs = noisy.identity_mean - noisy.baseline_mean
    assert noisy.ci_low < diffs < noisy.ci_high and noisy.ci_high - noisy.ci_low < 0.05
    none = stats.paired(base, base)
    assert (none.difference, none.ci_low, none.ci_high, none.p_value) == (0.0, 0.0, 0.0, 1.0)
    few = stats.paired(base[:5], base[:5] + 1)
    assert few.n == 5 and not few.enough and few.ci_low is None and few.p_value is None
    gaps = stats.paired([0.1, np.nan, 0.3], [0.2, 0.5, np.nan])  # only pairs with both values count
    assert gaps.n == 1 and gaps.difference == pytest.approx(0.1) and gaps.baseline_std is None


def test_holm_adjusts_known_p_values():
    # sorted 0.01, 0.03, 0.04 -> 3 * 0.01, max(0.03, 2 * 0.03), max(0.06, 1 * 0.04); back in the given order
    assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert stats.holm([0.01, 0.02, 0.03, 0.04]) == pytest.approx([0.04, 0.06, 0.06, 0.06])
    adjusted = stats.holm([None, 0.01, 0.04, None, 0.03])  # "n too small" rows are not tests
    assert adjusted[0] is None and adjusted[3] is None and adjusted[1:3] + adjusted[4:] == pytest.approx(
        [0.03, 0.06, 0.06])
    assert stats.holm([0.5, 0.6]) == [1.0, 1.0] and stats.holm([0.02]) == [0.02] and stats.holm([]) == []


def clustered(photo_effect: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """8 photos x 4 songs: identity = baseline + 0.05 + a per-photo effect (sd ``photo_effect``) + small noise;
    -> baseline [32], identity [32], the photo of each pair [32]."""
    rng = np.random.default_rng(seed)
    photos = np.repeat(np.arange(8), 4)
    base = rng.uniform(0.3, 0.5, 32)
    return base, base + 0.05 + rng.normal(0, photo_effect, 8)[photos] + rng.normal(0, 0.01, 32), photos


def test_the_interval_resamples_photos_so_a_photo_effect_widens_it():
    """Each photo meets every song: with large photo effects the 32 pairs hold about 8 photos' worth of evidence,
    and resampling photos (with all their pairs) gives an interval about sqrt(4) = 2 times the pairwise one."""
    base, ident, photos = clustered(photo_effect=0.1)
    pairwise, by_photo = stats.paired(base, ident), stats.paired(base, ident, clusters=photos)
    assert (pairwise.clusters, by_photo.clusters) == (32, 8)
    assert by_photo.difference == pairwise.difference and by_photo.p_value == pairwise.p_value
    assert by_photo.ci_low < by_photo.difference < by_photo.ci_high
    assert by_photo.ci_high - by_photo.ci_low > 1.6 * (pairwise.ci_high - pairwise.ci_low)
    # one pair per cluster is the plain paired bootstrap
    assert stats.paired(base, ident, clusters=np.arange(32)) == pairwise


def test_the_bootstrap_is_seeded_and_needs_two_photos():
    base, ident, photos = clustered(photo_effect=0.1, seed=1)
    assert stats.paired(base, ident, clusters=photos) == stats.paired(base, ident, clusters=photos)
    labels = np.array([f"photo-{p}" for p in photos])  # any labels, e.g. the photos' digests
    assert stats.paired(base, ident, clusters=labels) == stats.paired(base, ident, clusters=photos)
    one = stats.paired(base[:8], ident[:8], clusters=np.zeros(8))  # one photo: nothing shows how photos vary
    assert one.enough and one.clusters == 1 and one.ci_low is None and one.ci_high is None
    assert one.p_value is not None
    gaps = stats.paired([0.1, np.nan, 0.3], [0.2, 0.5, 0.4], clusters=["a", "b", "b"])  # photos with a value
    assert gaps.clusters == 2


def test_preference_is_the_exact_binomial_interval():
    pref = stats.preference(14, 6, 3)
    assert (pref.judgements, pref.rate) == (23, 0.7)
    # Clopper-Pearson from the beta distribution, independently of binomtest
    assert pref.ci_low == pytest.approx(sps.beta.ppf(0.025, 14, 7))
    assert pref.ci_high == pytest.approx(sps.beta.ppf(0.975, 15, 6))
    assert pref.p_value == pytest.approx(2 * sps.binom.sf(13, 20, 0.5))
    assert stats.preference(0, 0, 4).rate is None


def test_the_grid_alpha_0_is_the_baseline_unless_a_second_checkpoint_makes_it(tmp_path):
    photo, song = tmp_path / "p.png", tmp_path / "s.wav"
    photo.write_bytes(b"photo")
    song.write_bytes(b"song")
    settings = GenerationSettings(steps=1)
    plan = make_plan([photo], [song], (0.0, 0.5, 1.0), (1, 4), settings, StudioConfig())
    assert [(s.alpha, s.id_tokens) for s in plan.settings] == [(0.5, 1), (0.5, 4), (1.0, 1), (1.0, 4)]
    second = make_plan([photo], [song], (0.0, 1.0), (1, 4), settings, StudioConfig(),
                       StudioConfig(preset="stableanimator", weights_dir=str(tmp_path)))
    assert [(s.alpha, s.id_tokens) for s in second.settings] == [(0.0, None), (1.0, 1), (1.0, 4)]
    (pair,) = pairs_of(plan)
    assert pair.baseline.key == pair.baseline.pair and {c.pair for c in pair.cells} == {pair.baseline.key}
    assert len({c.key for c in pair.all}) == 5 and str(pair.baseline.settings.mode) == "baseline"
    assert pairs_of(second)[0].baseline.key != pair.baseline.key  # another model, another baseline
    photo.write_bytes(b"another photo")  # the same name, other bytes: other cells
    assert not {c.key for c in pairs_of(plan)[0].all} & {c.key for c in pair.all}
    shares = [share(list(range(10)), i, 3) for i in range(3)]  # disjoint, covering, balanced
    assert sorted(sum(shares, [])) == list(range(10)) and [len(s) for s in shares] == [4, 3, 3]
    with pytest.raises(ValueError):
        share([], 3, 3)


def metrics(videos: dict[str, dict], per_frame: dict[str, list]) -> dict:
    """A report's ``metrics`` in the layout of dancegen/metrics/__init__.py: rows per video, CSIM per frame."""
    return {"baseline_note": "...", "face_models": [OFFLINE_JUDGE], "scored_frames": [0, 1, 2, 3],
            "videos": videos, "notes": ["no ground truth"],
            "per_frame": {video: {f"csim_{OFFLINE_JUDGE}": sims} for video, sims in per_frame.items()}}


CSIM_KEY, RATE_KEY = f"csim_{OFFLINE_JUDGE}", f"face_rate_{OFFLINE_JUDGE}"
REPORT = {"preset": "tiny", "alpha": 1.0, "id_tokens": 4, "seed": 7, "frames": 4,
          "metrics": metrics({"baseline": {CSIM_KEY: 0.4, RATE_KEY: 0.75, "flicker": 0.02, "psnr": None},
                              # a metric the table code has never heard of
                              "identity": {CSIM_KEY: 0.5667, RATE_KEY: 0.75, "flicker": 0.03, "psnr": None,
                                           "new_metric": 1.5}},
                             {"baseline": [0.3, None, 0.5, 0.4], "identity": [0.6, 0.6, 0.5, None]}),
          "musicality": {"planned": 0.7, "generated": {"baseline": {"bas": 0.25}, "identity": {"bas": 0.3}}},
          "timings_s": {"denoising": 1.5}, "warnings": ["a", "b"], "face": {"largest": {"bbox": [1, 2, 3, 4]}}}


def test_any_per_video_number_of_the_report_becomes_a_column():
    base, ident = flatten(REPORT, "baseline"), flatten(REPORT, "identity")
    assert base[CSIM] == 0.4 and ident[CSIM] == 0.5667 and base[FACE_RATE] == 0.75
    assert base["video.metrics.videos.flicker"] == 0.02 and ident["video.metrics.videos.flicker"] == 0.03
    assert ident["video.metrics.videos.new_metric"] == 1.5 and "video.metrics.videos.new_metric" not in base
    assert base["video.musicality.generated.bas"] == 0.25 and ident["video.musicality.generated.bas"] == 0.3
    assert base["musicality.planned"] == 0.7 and base["metrics.notes"] == "no ground truth"
    assert base["timings_s.denoising"] == 1.5 and base["warnings"] == "a; b"
    assert not any("per_frame" in k or "bbox" in k or "scored_frames" in k for k in base)  # lists


@pytest.fixture()
def numbers_study(tmp_path):
    """A study table with numbers: 8 pairs whose identity videos score 0.1 higher (plus noise) than their
    baselines, made through the real cells and rows (reports and files written as the runner writes them)."""
    photos = [tmp_path / f"p{i}.png" for i in range(2)]
    songs = [tmp_path / f"s{i}.wav" for i in range(4)]
    for i, path in enumerate(photos + songs):
        path.write_bytes(bytes([i]) * 10)  # only their digests matter here
    plan = make_plan(photos, songs, (0.0, 1.0), (None,), GenerationSettings(steps=1), StudioConfig())
    folder = tmp_path / "study"
    part = PartFile(folder, 0)
    rng = np.random.default_rng(3)
    for pair in pairs_of(plan):
        level = rng.uniform(0.3, 0.5)
        for cell, shift in ((pair.baseline, 0.0), (pair.cells[0], 0.1 + rng.normal(0, 0.01))):
            sims = [round(level + shift + d, 4) for d in (0.0, 0.02, -0.02, 0.01)]
            video = cell.role
            report = {**REPORT, "metrics": metrics({video: {CSIM_KEY: float(np.mean(sims)), RATE_KEY: 1.0,
                                                            "flicker": 0.02 + shift / 10}}, {video: sims})}
            (folder / cell.folder).mkdir(parents=True)
            (folder / cell.folder / "report.json").write_text(json.dumps(report))
            (folder / cell.folder / f"{video}.mp4").write_bytes(b"")
            part.add(cell_row(cell, status="ok", report=report, wall_s=1.0))
    return folder


def test_a_summary_with_numbers_and_plots_that_show_them(numbers_study, tmp_path):
    folder = numbers_study
    table = merge(folder)
    assert len(table) == 16 and not (folder / PARTS).exists()
    assert metric_columns(table)[0] == CSIM and "video.metrics.videos.flicker" in metric_columns(table)
    write_summary(folder)
    summary = (folder / SUMMARY).read_text()
    csim = summary.split(f"`{CSIM}`")[1].split("###")[0]
    row = next(line for line in csim.splitlines() if line.startswith("| alpha 1, all tokens | 8 |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[2] == "2"  # photos: the bootstrap's clusters
    assert float(cells[5]) == pytest.approx(0.1, abs=0.01)  # identity - baseline
    low, high = (float(v) for v in cells[6].strip("[]").split(","))
    assert low < 0.1 < high and high - low < 0.03
    assert float(cells[7]) == pytest.approx(2 / 2 ** 8, abs=5e-4)  # all 8 pairs better: the exact Wilcoxon p
    # Holm over the summary's 4 Wilcoxon tests (CSIM, face rate, flicker, bas): CSIM shares the smallest p -> 4 p
    assert "over all 4 Wilcoxon tests" in summary and float(cells[8]) == pytest.approx(4 * 2 / 2 ** 8, abs=5e-4)
    assert render(folder) == summary  # seeded: the same summary every time it is made
    assert "`video.metrics.videos.flicker`" in summary and "n too small" not in csim

    def coloured_pixels(path) -> int:  # the lines are coloured; axes, labels and the "no face" note are grey
        with PIL.Image.open(path) as im:
            pixels = np.asarray(im.convert("RGB")).astype(int)
        return int((pixels.max(axis=-1) - pixels.min(axis=-1) > 60).sum())

    drawn = draw(folder, read_results(folder))
    empty = draw(tmp_path / "empty", read_results(tmp_path / "empty"))
    for with_data, without in zip(drawn, empty):
        assert coloured_pixels(with_data) > 200 and coloured_pixels(without) == 0, with_data.name


def test_merging_keeps_one_row_per_cell_a_made_one_first(numbers_study):
    folder = numbers_study
    merge(folder)
    before = read_results(folder)
    first = before.iloc[0]
    # a later failure of a cell that is already made, and a duplicate of a made row: still one row, the made one
    late = PartFile(folder, 1)
    late.add({**first.to_dict(), "status": "failed", "failure": "resource", "finished": "9999"})
    late.add(first.to_dict())
    after = merge(folder)
    assert len(after) == len(before) and after["key"].is_unique
    assert after.set_index("key").loc[first["key"], "status"] == "ok"


def test_a_part_written_again_while_merging_is_kept_for_the_next_merge(numbers_study, monkeypatch):
    """Another run on the same folder adds a row to its part file while results.csv is being written: the merge
    leaves that part in place (it is not the one read), and the next merge folds the new row in."""
    from dancegen.study import table as table_module

    folder = numbers_study
    merge(folder)
    rows = read_results(folder)
    running = PartFile(folder, 1)
    running.add({**rows.iloc[0].to_dict(), "key": "a" * 20, "finished": "1"})
    write = table_module.write_atomic

    def write_while_the_other_run_adds(path, fn, **kwargs):
        out = write(path, fn, **kwargs)
        running.add({**rows.iloc[1].to_dict(), "key": "b" * 20, "finished": "2"})
        return out

    monkeypatch.setattr(table_module, "write_atomic", write_while_the_other_run_adds)
    merged = merge(folder)
    monkeypatch.undo()
    assert "a" * 20 in set(merged["key"]) and "b" * 20 not in set(merged["key"])
    assert running.path.is_file()  # kept: it holds a row no merge has seen
    assert {"a" * 20, "b" * 20} <= set(merge(folder)["key"]) and not running.path.exists()
