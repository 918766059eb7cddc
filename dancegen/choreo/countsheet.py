"""A plan as a choreographer's count sheet: a markdown table, one row per 8-count.

Columns: the time of the row's first count (m:ss.s), the section, the bar number (bars of the danced meter from
the first downbeat, 1-based), then counts 1..8 (1..6 in triple meter: two bars of three, counted "1 2 3 4 5 6"
as waltz and semachi dancers count them). A cell holds the move that starts on that count ("(m)" when mirrored),
"·" while a move goes on; a count that is a hit (a sharp stop) is marked "!" . The pick-up row is labelled
"pick-up" and the ending row "end" (the finishing pose, held).
"""

from __future__ import annotations

from .document import DancePlan, clock


def count_sheet(plan: DancePlan, width: int | None = None) -> str:
    """The count sheet of ``plan`` (markdown); ``width`` counts per row (default 8, or 6 in triple meter)."""
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
