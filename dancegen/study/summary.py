"""summary.md of a study folder: what was compared, the paired statistics of every metric per identity setting, the
blind review's preference rate, the failed cells and the time per cell; and the plots.

Made from the folder alone (results.csv, study.json, review.sqlite), so ``dancegen eval --summarise DIR`` and every
stored review answer can make it again at any time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from . import stats
from .grid import BASELINE, IDENTITY, read_study
from .review import STORE, counts, read_judgements
from ..metrics import BASELINE_NOTE
from ..io.files import write_text_atomic
from .table import CSIM, FACE_RATE, FAILED, OK, VIDEO_PREFIX, all_rows

SUMMARY = "summary.md"
SEPARATE_BASELINE_NOTE = ("The baselines come from a second checkpoint ({weights}), with the same seed, so the same "
                          "noise and poses as the identity videos; alpha 0 of the main model, where it is in the grid, "
                          "is an inference-time ablation of the branch.")
TITLES = {CSIM: "Identity similarity to the photo (CSIM, mean over the sampled frames with a face)",
          FACE_RATE: "Share of sampled frames with a face found"}
QUESTION_TITLES = {"person": "Which keeps the person better?", "dance": "Which dances better?"}
SHARED = ("seed", "steps", "guidance", "fps", "size", "seconds", "music_offset_s", "framing")


def _number(value, digits: int = 3, sign: bool = False) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def _p(value: float | None) -> str:
    return "–" if value is None else (f"{value:.2g}" if value < 0.001 else f"{value:.3f}")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def metric_columns(table: pd.DataFrame) -> list[str]:
    """The per-video numeric columns with at least one value (CSIM first, then by name)."""
    made = table[table["status"] == OK] if "status" in table else table
    found = [c for c in table.columns
             if c.startswith(VIDEO_PREFIX) and pd.api.types.is_numeric_dtype(table[c].dtype)
             and not pd.api.types.is_bool_dtype(table[c].dtype) and made[c].notna().any()]
    return sorted(found, key=lambda c: (c != CSIM, c))


def _settings(identity: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """Identity rows grouped by setting, ordered by alpha and then tokens."""
    order = identity.assign(_n=identity["id_tokens"].fillna(0)).sort_values(["alpha", "_n"], kind="stable")
    return [(str(s), order[order["setting"] == s]) for s in dict.fromkeys(order["setting"])]


def comparisons(table: pd.DataFrame, metric: str) -> list[tuple[str, stats.Paired]]:
    """Per identity setting: ``metric`` of each identity video against its baseline's, over the pairs (the photo
    of each pair, by its bytes, is its cluster for the bootstrap)."""
    ok = table[table["status"] == OK]
    baselines = ok[ok["role"] == BASELINE].set_index("key")
    identity = ok[(ok["role"] == IDENTITY) & ok["pair"].isin(baselines.index)]
    out = []
    for setting, rows in _settings(identity):
        values = rows[metric] if metric in rows else pd.Series(np.nan, index=rows.index)
        base = (baselines[metric] if metric in baselines else pd.Series(np.nan, index=baselines.index))
        out.append((setting, stats.paired(base.reindex(rows["pair"]).to_numpy(float), values.to_numpy(float),
                                          clusters=rows["photo_sha"].to_numpy())))
    return out


def _interval(r: stats.Paired) -> str:
    if r.ci_low is None:
        return f"{r.clusters} photo; {stats.MIN_CLUSTERS} needed"
    return f"[{_number(r.ci_low, sign=True)}, {_number(r.ci_high, sign=True)}]"


def _metric_section(metric: str, compared: Sequence[tuple[str, stats.Paired, float | None]]) -> str:
    """One metric's table: per setting its comparison and its Holm-adjusted p-value."""
    rows = []
    for setting, r, holm_p in compared:
        if r.enough:
            interval, p, adjusted = _interval(r), _p(r.p_value), _p(holm_p)
        else:
            interval = p = adjusted = f"n too small ({r.n} pairs; {stats.MIN_PAIRS} needed)"
        rows.append([setting, r.n, r.clusters, f"{_number(r.baseline_mean)} ± {_number(r.baseline_std)}",
                     f"{_number(r.identity_mean)} ± {_number(r.identity_std)}", _number(r.difference, sign=True),
                     interval, p, adjusted])
    header = ["setting", "pairs", "photos", "baseline (mean ± std)", "identity (mean ± std)", "identity − baseline",
              f"{stats.CONFIDENCE:.0%} CI (photo bootstrap)", "Wilcoxon p", "Holm p"]
    body = _table(header, rows) if rows else "No identity video with a finished baseline yet."
    return f"### {TITLES.get(metric, metric.removeprefix(VIDEO_PREFIX))}\n\n`{metric}`\n\n{body}\n"


def _metric_sections(table: pd.DataFrame, metrics: Sequence[str]) -> tuple[list[str], int]:
    """Every metric's table, the Wilcoxon p-values Holm-adjusted together (one family per summary); -> the sections
    and the number of tests in the family."""
    compared = {metric: comparisons(table, metric) for metric in metrics}
    family = [r.p_value for found in compared.values() for _, r in found]
    adjusted = iter(stats.holm(family))
    sections = [_metric_section(metric, [(setting, r, next(adjusted)) for setting, r in found])
                for metric, found in compared.items()]
    return sections, sum(p is not None for p in family)


def _review_section(folder: Path) -> str:
    path = folder / STORE
    judgements = read_judgements(path)
    if judgements.empty:
        return (f"No blind judgements yet. Collect them with `dancegen review {folder}` (or the app's review tab) "
                "and summarise again.\n")
    reviewers = judgements["reviewer"].nunique()
    parts = [f"{len(judgements)} judgements by {reviewers} reviewer{'s' if reviewers != 1 else ''}. The sides were "
             "shuffled for every showing and stored with each answer. Of the answers that chose a side, the rate "
             "is the share that chose the identity video; \"same\" answers are counted apart."]
    header = ["setting", "judgements", "identity", "baseline", "same", "identity preferred",
              f"{stats.CONFIDENCE:.0%} CI (exact binomial)", "p (vs 50 %)"]
    for question, title in QUESTION_TITLES.items():
        rows = []
        for setting, c in counts(judgements, question).items():
            pref = stats.preference(c[IDENTITY], c[BASELINE], c["same"])
            rate = "no answer chose a side" if pref.rate is None else f"{pref.rate:.0%}"
            interval = "–" if pref.rate is None else f"[{pref.ci_low:.0%}, {pref.ci_high:.0%}]"
            rows.append([setting, pref.judgements, pref.identity, pref.baseline, pref.same, rate, interval,
                         _p(pref.p_value)])
        parts.append(f"### {title}\n\n" + (_table(header, rows) if rows else "No answers to this question yet."))
    return "\n\n".join(parts) + "\n"


def _failures(table: pd.DataFrame) -> str:
    failed = table[table["status"] == FAILED]
    if failed.empty:
        return "None.\n"
    rows = [[r.photo, r.music, r.setting, str(r.error).replace("|", "/")] for r in failed.itertuples()]
    return _table(["photo", "music", "setting", "message"], rows) + "\n"


def _timing(table: pd.DataFrame) -> str:
    made = table[(table["status"] == OK) & table["wall_s"].notna()]
    if made.empty:
        return "No cell made yet.\n"
    rows = [[setting, len(g), _number(float(g["wall_s"].mean()), 1), _number(float(g["wall_s"].sum()), 1)]
            for setting, g in [("baseline", made[made["role"] == BASELINE]),
                               *_settings(made[made["role"] == IDENTITY])] if len(g)]
    return _table(["setting", "cells", "mean s per cell", "total s"], rows) + "\n"


def _facts(study: dict, table: pd.DataFrame) -> list[str]:
    shared = study.get("settings", {})
    made = table[table["status"] == OK]
    first = made.iloc[0] if len(made) else None
    lines = []
    if first is not None:
        said = {k: first.get(k) if isinstance(first.get(k), str) else "?" for k in ("label", "weights", "device",
                                                                                    "dtype")}
        lines.append(f"- Model: {said['label']} (weights: {said['weights']}); {said['device']}, {said['dtype']}.")
    if shared:
        lines.append("- Shared settings: " + ", ".join(f"{k} {shared.get(k)}" for k in SHARED if k in shared)
                     + " (None: the model's default).")
    pairs = table.drop_duplicates("pair")
    lines.append(f"- Grid: {pairs['photo'].nunique()} photos x {pairs['music'].nunique()} songs = {len(pairs)} "
                 f"pairs; identity settings: {', '.join(s for s, _ in _settings(table[table['role'] == IDENTITY]))}"
                 ".")
    lines.append(f"- Cells: {int((table['status'] == OK).sum())} made, {int((table['status'] == FAILED).sum())} "
                 "failed (listed below).")
    return lines


def render(folder: str | Path) -> str:
    """The text of summary.md for a study folder."""
    folder = Path(folder)
    table = all_rows(folder)
    study = read_study(folder)
    separate = study.get("baseline_model", study.get("model")) != study.get("model")
    note = (SEPARATE_BASELINE_NOTE.format(weights=study["baseline_model"].get("weights")) if separate
            else BASELINE_NOTE)
    if table.empty:
        return f"# Study summary\n\n{note}\n\nNo cell has been made yet.\n"
    metrics = metric_columns(table)
    sections, tests = _metric_sections(table, list(dict.fromkeys([CSIM, *metrics])))
    return "\n".join([
        "# Study summary: identity branch against the baseline", "", note, "", *_facts(study, table), "",
        "## Paired comparison per identity setting", "",
        "Each identity video is compared with the baseline of its own photo and song (same seed, noise and poses). "
        "\"identity − baseline\" is the mean difference over the pairs with a value for both. Every photo meets "
        "every song, so the interval resamples photos, each with all its pairs (a cluster bootstrap, scipy's BCa; "
        f"none below {stats.MIN_CLUSTERS} photos). p is the Wilcoxon signed-rank test over the pairs; \"Holm p\" "
        f"is that p adjusted with Holm's step-down method over all {tests} Wilcoxon tests of this summary (every "
        "metric and setting), the one to read against 0.05 when looking at more than one row. Below "
        f"{stats.MIN_PAIRS} pairs none is given (\"n too small\").", "", *sections,
        "## Blind review", "", _review_section(folder),
        "## Failed cells", "", _failures(table),
        "## Time", "", _timing(table)])


def write_summary(folder: str | Path, plots: bool = True) -> list[Path]:
    """Write summary.md (and the plots) of a study folder; -> the files written."""
    folder = Path(folder)
    written = [write_text_atomic(folder / SUMMARY, render(folder))]
    if plots:
        from .plots import draw  # matplotlib loads only here

        written += draw(folder, all_rows(folder))
    return written
