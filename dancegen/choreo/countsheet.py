"""A plan as a choreographer's count sheet: a markdown table, one row per 8-count.

Columns: the time of the row's first count (m:ss.s), the section, the bar number (bars of the danced meter from
the first downbeat, 1-based), then counts 1..8 (1..6 in triple meter: two bars of three, counted "1 2 3 4 5 6"
as waltz and semachi dancers count them). A cell holds the move that starts on that count ("(m)" when mirrored),
"·" while a move goes on; a count that is a hit (a sharp stop) is marked "!" . The pick-up row is labelled
"pick-up" and the ending row "end" (the finishing pose, held).

A plan whose motion comes from a file has no moves: its sheet lists the motion's segments instead, one row each:
the song's stretch, the stretch of the motion danced there, how fast (motion seconds per song second) and whether
it is mirrored.
"""

from __future__ import annotations

import numpy as np

from .document import DancePlan, clock


def motion_sheet(plan: DancePlan) -> str:
    """The sheet of a plan whose motion comes from a file: its segments (markdown)."""
    m = plan.motion
    src = m.source
    timing = "its hits on the song's beats" if m.timing == "beats" else "its own timing"
    lines = [f"Motion: {src.name} ({src.kind}, {src.frames} frames at {src.fps:g} fps), {timing}; "
             f"{plan.meter} counts per bar", "", "| segment | song | motion | speed | mirrored |",
             "|---|---|---|---|---|"]
    for i, g in enumerate(m.segments):
        a, b = g.song_start_s, g.song_end_s
        sa, sb = (float(np.interp(t, [k[0] for k in g.knots], [k[1] for k in g.knots])) for t in (a, b))
        lines.append(f"| {i + 1} | {clock(g.song_start_s)}-{clock(g.song_end_s)} | {clock(sa)}-{clock(sb)} | "
                     f"x{(sb - sa) / (b - a):.2f} | {'yes' if g.mirrored else 'no'} |")
    return "\n".join(lines) + "\n"


def count_sheet(plan: DancePlan, width: int | None = None) -> str:
    """The count sheet of ``plan`` (markdown); ``width`` counts per row (default 8, or 6 in triple meter)."""
    if plan.motion is not None:
        return motion_sheet(plan)
    per_row = width or (6 if plan.meter == 3 else 8)
    head = "| time | section | bar | " + " | ".join(str(c + 1) for c in range(per_row)) + " |"
    lines = [f"Style: {plan.style}, seed {plan.seed}, {plan.meter} counts per bar", "", head,
             "|" + "---|" * (per_row + 3)]
    counted = 0  # counts danced since the first downbeat
    for p in plan.phrases:
        if p.kind == "ending":
            cells = ["finish (hold)!"] + [""] * (per_row - 1)
            lines.append(f"| {clock(p.start_s)} | {p.section} | end | " + " | ".join(cells) + " |")
            continue
        cells = []
        for m in p.moves:
            name = m.move + (" (m)" if m.mirrored else "")
            cells += [name] + ["·"] * (m.counts - 1)
        cells = [c + ("!" if i in p.hits else "") for i, c in enumerate(cells)]
        period = (p.end_s - p.start_s) / max(len(cells), 1)
        for r in range(0, len(cells), per_row):
            row = cells[r: r + per_row]
            row += [""] * (per_row - len(row))
            bar = "pick-up" if p.kind == "intro" else str((counted + r) // plan.meter + 1)
            lines.append(f"| {clock(p.start_s + r * period)} | {p.section} | {bar} | " + " | ".join(row) + " |")
        if p.kind != "intro":
            counted += len(cells)
    return "\n".join(lines) + "\n"
