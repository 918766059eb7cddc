"""The study's plots (PNG, matplotlib's object interface with the Agg canvas: no pyplot, no global backend):

* ``plots/csim_vs_alpha.png``: mean identity similarity (CSIM) over the pairs against alpha, one line per number of
  identity tokens, the baseline at alpha 0, bars of one standard deviation;
* ``plots/csim_per_frame.png``: CSIM per frame, averaged over the pairs, for the baseline and each setting (from each
  cell's report.json, which keeps the per-frame values).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .grid import BASELINE, IDENTITY
from ..metrics import OFFLINE_JUDGE
from ..io.files import write_atomic
from .table import CSIM, OK

PLOTS = "plots"
NO_FACE = "no face was found in the generated frames:\nno identity similarity to plot"


def _figure():
    from matplotlib.figure import Figure

    return Figure(figsize=(6.4, 4.0), layout="constrained")


def _finish(fig, ax, drawn: bool, xlabel: str, path: Path) -> Path:
    """Label the axes, add the legend (or say there was nothing to draw) and write the PNG."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel("identity similarity to the photo (CSIM)")
    if drawn:
        ax.legend(loc="best", fontsize="small")
    else:
        ax.text(0.5, 0.5, NO_FACE, ha="center", va="center", transform=ax.transAxes, color="0.4")
    return write_atomic(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))


def csim_against_alpha(table: pd.DataFrame, path: Path) -> Path:
    """Mean CSIM over the pairs against alpha (one line per token count; the baseline at alpha 0)."""
    fig = _figure()
    ax = fig.add_subplot()
    ok = table[(table["status"] == OK)] if not table.empty else table
    values = ok[CSIM] if CSIM in ok else pd.Series(dtype=float)
    drawn = False
    base = values[ok["role"] == BASELINE].dropna() if len(ok) else values
    if len(base):
        ax.errorbar([0.0], [base.mean()], yerr=[base.std(ddof=1) if len(base) > 1 else 0.0], fmt="ks",
                    capsize=3, label=f"baseline (n={len(base)})")
        drawn = True
    identity = ok[(ok["role"] == IDENTITY) & values.notna()] if len(ok) else ok
    for tokens, group in identity.groupby(identity["id_tokens"].fillna(-1), sort=True):
        stats = group.groupby("alpha")[CSIM].agg(["mean", "std", "count"]).sort_index()
        label = "identity, all tokens" if tokens < 0 else f"identity, {int(tokens)} tokens"
        ax.errorbar(stats.index, stats["mean"], yerr=stats["std"].fillna(0.0), marker="o", capsize=3,
                    label=label)
        drawn = True
    return _finish(fig, ax, drawn, "alpha (identity strength)", path)


def _per_frame(folder: Path, rows: pd.DataFrame) -> pd.Series | None:
    """Mean similarity per frame index over the cells ``rows`` (read from their report.json files)."""
    frames = []
    for row in rows.itertuples():
        report_path = folder / str(row.folder) / "report.json"
        if not report_path.is_file():
            continue
        metrics = json.loads(report_path.read_text(encoding="utf-8")).get("metrics", {})
        index = metrics.get("scored_frames") or []
        sims = metrics.get("per_frame", {}).get(row.role, {}).get(f"csim_{OFFLINE_JUDGE}") or []
        frames.append(pd.Series([np.nan if s is None else s for s in sims], index=index[:len(sims)], dtype=float))
    if not frames:
        return None
    mean = pd.concat(frames, axis=1).mean(axis=1).dropna()
    return mean if len(mean) else None


def csim_per_frame(folder: Path, table: pd.DataFrame, path: Path) -> Path:
    """CSIM per frame, averaged over the pairs: the baseline and each identity setting."""
    fig = _figure()
    ax = fig.add_subplot()
    ok = table[table["status"] == OK] if not table.empty else table
    groups = [("baseline", ok[ok["role"] == BASELINE])] if len(ok) else []
    if len(ok):
        identity = ok[ok["role"] == IDENTITY]
        groups += [(str(s), identity[identity["setting"] == s]) for s in dict.fromkeys(identity["setting"])]
    drawn = False
    for label, rows in groups:
        curve = _per_frame(folder, rows)
        if curve is not None:
            ax.plot(curve.index, curve.to_numpy(), marker=".", label=label,
                    **({"color": "black"} if label == "baseline" else {}))
            drawn = True
    return _finish(fig, ax, drawn, "frame", path)


def draw(folder: Path, table: pd.DataFrame) -> list[Path]:
    """Both plots of a study folder; -> their paths."""
    out = Path(folder) / PLOTS
    return [csim_against_alpha(table, out / "csim_vs_alpha.png"), csim_per_frame(folder, table, out /
                                                                                   "csim_per_frame.png")]
