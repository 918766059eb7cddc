"""The choreography panel's handlers (:class:`ChoreographyPanel`): plan the dance, show it as a phrase table, edit
a phrase's moves, lock phrases, plan again, download and upload ``choreography.json``.

The plan shown lives in the visitor's ``gr.State`` (a :class:`~dancegen.choreo.DancePlan`, or None); nothing is
kept here between requests. Every handler takes the page's controls by name and returns some of the panel's outputs
(:data:`PANEL_OUTPUTS`) by name, and leaves the page ready whatever happens: a problem is a one-line message in the panel, and the plan shown (state,
table, skeleton preview, download) stays as it was. The skeleton preview dances the plan shown; when the music or
its segment changes the plan no longer fits, so it is dropped and the preview shows a fresh dance.

Table rows (one per phrase, in time order): ``[number (1-based), "m:ss.s-m:ss.s", section, moves, locked]``;
moves are written ``name x counts`` joined by ", ", with ``(m)`` after a mirrored move (:func:`moves_text`,
read back by :func:`parse_moves`). The pick-up groove and the final pose are shown but cannot be edited.

With a motion upload the motion file drives the dance: the plan (a version-2 choreography.json) has no phrases but
stretches of the song danced to stretches of the motion, and the table shows one row per stretch
(``[number, song "m:ss.s-m:ss.s", "motion file", "<file> m:ss.s-m:ss.s" (+ " (mirrored)"), False]``), not
editable here. Such a plan is replayed, downloaded and uploaded like any other, with that motion file uploaded.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Mapping
from typing import Any


from ..choreo import MOVES, STYLES, ChoreographyPlanError, DancePlan, MoveEntry, Phrase, load_plan
from ..choreo.document import clock
from ..errors import UserError, report_internal
from . import text as T
from .controls import AUTO, integer, upload_source
from .handlers import DanceApp
from .words import capital, sentence
from .motion import music_of, source_view

logger = logging.getLogger(__name__)

# what the panel's handlers set, by name (the layout wires these components)
PANEL_OUTPUTS = ("plan", "table", "skeleton", "skeleton_text", "plan_text", "plan_file", "seed", "motion_source")
_ENTRY = re.compile(r"^(?P<name>[A-Za-z_]+)\s*(?:x\s*(?P<counts>\d+))?\s*(?P<m>\(m\))?$")
_TRUE = (True, 1, "true", "True", "1", "yes")


class PlanEditError(UserError):
    """An edit of the phrase table that cannot be danced (one line, naming the phrase)."""


def style_choices() -> list[tuple[str, str]]:
    """The style menu: "auto (from the music)" then every style of the choreographer."""
    return [(T.STYLE_AUTO, AUTO)] + [(name, name) for name in STYLES]


def move_choices() -> list[str]:
    """The move menu: every move of the vocabulary, in its table order."""
    return list(MOVES)


def moves_text(phrase: Phrase) -> str:
    """A phrase's moves as the table shows them: "step_touch x4, grapevine x4 (m)"."""
    return ", ".join(f"{m.move} x{m.counts}" + (" (m)" if m.mirrored else "") for m in phrase.moves)


def plan_rows(plan: DancePlan | None, locked: set[int] = frozenset()) -> list[list]:
    """The phrase table of ``plan``: one row per phrase, ``locked`` (indices) ticked; a motion plan's: one row per
    stretch of the song and the stretch of the motion danced on it."""
    if plan is None:
        return []
    if plan.motion is not None:
        name = plan.motion.source.name
        return [[i + 1, f"{clock(s.song_start_s)}-{clock(s.song_end_s)}", T.PLAN_MOTION_ROW,
                 T.PLAN_MOTION_STRETCH.format(name=name, start=clock(s.knots[0][1]), end=clock(s.knots[-1][1]))
                 + (T.PLAN_MIRRORED if s.mirrored else ""), False] for i, s in enumerate(plan.motion.segments)]
    rows = []
    for i, p in enumerate(plan.phrases):
        section = {"intro": T.PLAN_PICK_UP, "ending": T.PLAN_ENDING}.get(p.kind, "{section}").format(section=p.section)
        rows.append([i + 1, f"{clock(p.start_s)}-{clock(p.end_s)}", section, moves_text(p),
                     i in locked and p.kind == "dance"])
    return rows


def table_rows(value: Any) -> list[list]:
    """The rows of a Dataframe value: Gradio's raw payload ({"headers", "data"}), a pandas frame or a list."""
    if value is None:
        return []
    if isinstance(value, dict):
        value = value.get("data") or []
    elif hasattr(value, "values") and hasattr(value, "columns"):
        value = value.values.tolist()
    return [list(row) for row in value if row is not None and len(row) >= 5]


def locked_indices(plan: DancePlan | None, rows: list[list]) -> list[int]:
    """Indices of the phrases whose row is ticked "locked" (dance phrases only)."""
    if plan is None:
        return []
    return [i for i, row in enumerate(rows[:len(plan.phrases)])
            if row[4] in _TRUE and plan.phrases[i].kind == "dance"]


def parse_moves(text: Any, phrase: Phrase, number: int, meter: int) -> tuple[MoveEntry, ...]:
    """The moves a table cell names for ``phrase`` (numbered ``number``): each ``name x counts`` with ``(m)`` when
    mirrored; the last may leave out its counts (it lasts the rest). A move keeps the size and cycle of the entry it
    replaces when it is the same move, else it takes the phrase's size. PlanEditError for a cell that cannot be
    danced: a name not in the move table, a move not danced in 3/4 time, counts that do not add up."""
    parts = [p.strip() for p in str(text or "").split(",") if p.strip()]
    if not parts:
        raise PlanEditError(T.PLAN_BAD_ENTRY.format(number=number, text=str(text or "")))
    size = phrase.moves[0].size
    entries, used = [], 0
    for k, part in enumerate(parts):
        found = _ENTRY.match(part)
        if found is None:
            raise PlanEditError(T.PLAN_BAD_ENTRY.format(number=number, text=part))
        name = found["name"].lower()
        if name not in MOVES:
            raise PlanEditError(T.PLAN_UNKNOWN_MOVE.format(number=number, name=name))
        if meter == 3 and MOVES[name].triple is None:
            raise PlanEditError(T.PLAN_NOT_IN_THREE.format(number=number, name=name))
        if found["counts"] is None and k < len(parts) - 1:
            raise PlanEditError(T.PLAN_BAD_ENTRY.format(number=number, text=part))
        counts = phrase.counts - used if found["counts"] is None else int(found["counts"])
        if counts < 1:
            raise PlanEditError(T.PLAN_COUNTS.format(number=number, counts=phrase.counts, got=used + counts))
        old = phrase.moves[k] if k < len(phrase.moves) else None
        same = old is not None and old.move == name
        entries.append(MoveEntry(name, counts, found["m"] is not None, old.size if same else size,
                                 old.variant if same else 0))
        used += counts
    if used != phrase.counts:
        raise PlanEditError(T.PLAN_COUNTS.format(number=number, counts=phrase.counts, got=used))
    return tuple(entries)


def edited_plan(plan: DancePlan, rows: list[list]) -> tuple[DancePlan, list[int]]:
    """``plan`` with the moves the table's rows name -> (the plan, indices of the phrases that changed). A row whose
    moves text is the plan's own is left exactly as it is. PlanEditError for an edit that cannot be danced."""
    phrases, changed = list(plan.phrases), []
    for i, (phrase, row) in enumerate(zip(plan.phrases, rows)):
        if str(row[3]).strip() == moves_text(phrase):
            continue
        if phrase.kind != "dance":
            raise PlanEditError(T.PLAN_FIXED.format(number=i + 1, kind=T.PLAN_KINDS[phrase.kind]))
        moves = parse_moves(row[3], phrase, i + 1, plan.meter)
        if moves != phrase.moves:
            phrases[i] = dataclasses.replace(phrase, moves=moves)
            changed.append(i)
    return dataclasses.replace(plan, phrases=tuple(phrases)), changed


def fits_motion(plan: DancePlan, clip) -> bool:
    """Whether ``plan`` can be danced with the motion ``clip`` (a MotionClip or None): a plan of planned moves
    without one, a motion plan with the same motion file (content, frames and rate)."""
    if plan.motion is None or clip is None:
        return plan.motion is None and clip is None
    want, got = plan.motion.source, clip.ref
    return (want.sha256, want.frames, want.fps) == (got.sha256, got.frames, got.fps)


def with_move(plan: DancePlan, number: Any, move: Any) -> DancePlan:
    """``plan`` with phrase ``number`` (1-based) danced as ``move`` for all its counts. PlanEditError when there is
    no such dance phrase or move."""
    if plan.motion is not None:
        raise PlanEditError(T.PLAN_MOTION_FIXED)
    n = integer(number, T.PHRASE_LABEL)
    if n is None or not 1 <= n <= len(plan.phrases):
        raise PlanEditError(T.PLAN_NO_PHRASE.format(number=number, count=len(plan.phrases)))
    phrase = plan.phrases[n - 1]
    if phrase.kind != "dance":
        raise PlanEditError(T.PLAN_FIXED.format(number=n, kind=T.PLAN_KINDS[phrase.kind]))
    moves = parse_moves(f"{move} x{phrase.counts}", phrase, n, plan.meter)
    phrases = list(plan.phrases)
    phrases[n - 1] = dataclasses.replace(phrase, moves=moves)
    return dataclasses.replace(plan, phrases=tuple(phrases))


class ChoreographyPanel:
    """The panel's handlers around a :class:`DanceApp` (its studio and its reading of the controls). Each takes the
    values of the skeleton preview's controls by name (:func:`.controls.names` of "dance": photo, size, music,
    segment, fps, seed, framing, output fps, style) and the panel's own: ``plan`` (the DancePlan shown, or None),
    ``table``, ``move``, ``phrase_number``, ``plan_upload``; it returns the panel's outputs by name (those left out
    stay as they are)."""

    def __init__(self, app: DanceApp):
        self.app = app
        self.studio = app.studio

    # ---- helpers

    def _inputs(self, values: Mapping[str, Any]):
        """(photo source, music path (None: a motion video's own sound), GenerationSettings, the motion upload
        read or None); PlanEditError when the photo or the music is missing, MusicError for a motion that cannot
        stand in for missing music, MotionError for one that cannot be used."""
        source, path = upload_source(values.get("photo")), upload_source(values.get("music"))
        clip = self.app.motions.clip(values)
        if source is None or (not isinstance(path, str) and clip is None):
            raise PlanEditError(T.PLAN_NEEDS_INPUTS)
        return source, music_of(values, clip), self.app._settings(values), clip

    def _show(self, source, path, settings, clip=None, plan: DancePlan | None = None, keep=None):
        """Plan (or replay ``plan``) and write the dance (``clip``: the motion danced) -> (PlannedDance,
        {name: path} of its files)."""
        planned = self.studio.plan_dance(source, path, settings, keep=keep, plan=plan, motion=clip)
        return planned, self.studio.write_dance(planned, self.studio.outputs.create())

    def _outputs(self, planned, paths, message: str, locked: set[int] = frozenset(), seed=None) -> dict:
        plan = planned.plan
        out = dict(plan=plan, table=plan_rows(plan, locked), skeleton=str(paths["skeleton"]),
                   skeleton_text=T.SKELETON_PLANNED if plan.motion is None else T.SKELETON_MOTION,
                   plan_text=message, plan_file=str(paths["choreography"]),
                   motion_source=source_view(paths.get("motion_source")))
        return out if seed is None else {**out, "seed": seed}

    @staticmethod
    def _motion_message(plan: DancePlan, template: str) -> str:
        """PLAN_MOTION_MADE or PLAN_MOTION_LOADED for a motion plan."""
        motion = plan.motion
        return template.format(name=motion.source.name, segments=len(motion.segments),
                               timing=T.PLAN_TIMINGS.get(motion.timing, motion.timing))

    @staticmethod
    def _failed(template: str, exc: Exception, shown: DancePlan | None, rows: list[list]) -> dict:
        """The outputs after a failure: the message in the panel, the table back to the plan shown (its locks
        kept), everything else as it was."""
        if isinstance(exc, UserError):
            message = sentence(exc)
        else:
            message = capital(report_internal(logger, "choreography", exc)) + "."
        return dict(table=plan_rows(shown, set(locked_indices(shown, rows))), plan_text=template.format(message=message))

    # ---- handlers

    def plan(self, values: Mapping[str, Any], request=None) -> dict:
        """"Plan the dance": a new plan in the chosen style, keeping the phrases ticked "locked" in the table of the
        plan shown. Pressed again with the seed of the plan shown, it plans with the next seed (shown in the Seed
        box): another dance, reproducible from that seed."""
        shown, rows = values.get("plan"), table_rows(values.get("table"))
        try:
            source, path, settings, clip = self._inputs(values)
            new_seed = None
            if shown is not None and settings.seed == shown.seed:
                new_seed = settings.seed + 1
                settings = dataclasses.replace(settings, seed=new_seed)
            locked = locked_indices(shown, rows)
            keep = (shown, locked) if locked else None
            planned, paths = self._show(source, path, settings, clip, keep=keep)
            if keep is not None and planned.plan.music != shown.music:  # other music: nothing of it can stay
                locked, keep = [], None
                planned, paths = self._show(source, path, settings, clip)
            stay = {shown.phrases[i] for i in locked}
            kept = {i for i, p in enumerate(planned.plan.phrases) if p in stay}  # ticked again in the new table
            plan = planned.plan
            message = T.PLAN_MADE.format(phrases=len(plan.phrases), style=plan.style, seed=plan.seed,
                                         kept=T.PLAN_KEPT.format(count=len(kept)) if kept else "")
            if plan.motion is not None:
                message = self._motion_message(plan, T.PLAN_MOTION_MADE)
            return self._outputs(planned, paths, message, kept, new_seed)
        except Exception as exc:
            return self._failed(T.PLAN_NOT_MADE, exc, shown, rows)

    def edit(self, values: Mapping[str, Any], request=None) -> dict:
        """The table was edited: phrases whose moves text changed are danced as written and the skeleton preview
        is made again; a tick in "locked" alone changes nothing until the next plan."""
        shown, rows = values.get("plan"), table_rows(values.get("table"))
        if shown is None:
            return {}
        try:
            if shown.motion is not None:  # its stretches are shown, not edited
                if [str(r[3]) for r in rows] == [r[3] for r in plan_rows(shown)]:
                    return {}
                raise PlanEditError(T.PLAN_MOTION_FIXED)
            plan, changed = edited_plan(shown, rows)
            if not changed:
                return {}
            planned, paths = self._show(*self._inputs(values), plan=plan)
            first = planned.plan.phrases[changed[0]]
            message = T.PLAN_EDITED.format(number=", ".join(str(i + 1) for i in changed), moves=moves_text(first))
            return self._outputs(planned, paths, message, set(locked_indices(shown, rows)))
        except Exception as exc:
            return self._failed(T.PLAN_NOT_CHANGED, exc, shown, rows)

    def put_move(self, values: Mapping[str, Any], request=None) -> dict:
        """The move menu: phrase ``phrase_number`` dances ``move`` for all its counts; the skeleton preview
        follows."""
        shown, rows = values.get("plan"), table_rows(values.get("table"))
        number = values.get("phrase_number")
        try:
            if shown is None:
                raise PlanEditError(T.PLAN_NONE)
            plan = with_move(shown, number, values.get("move"))
            planned, paths = self._show(*self._inputs(values), plan=plan)
            n = integer(number, T.PHRASE_LABEL)
            message = T.PLAN_EDITED.format(number=n, moves=moves_text(planned.plan.phrases[n - 1]))
            return self._outputs(planned, paths, message, set(locked_indices(shown, rows)))
        except Exception as exc:
            return self._failed(T.PLAN_NOT_CHANGED, exc, shown, rows)

    def upload(self, values: Mapping[str, Any], request=None) -> dict:
        """An uploaded choreography.json (``plan_upload``): checked, then checked against this music (its sha256
        and segment) and shown; a file that cannot be used leaves the plan shown as it was, with its one-line
        reason."""
        shown, rows = values.get("plan"), table_rows(values.get("table"))
        source = upload_source(values.get("plan_upload"))
        if source is None:
            return {}
        try:
            if not isinstance(source, str):
                raise ChoreographyPlanError("the choreography must be a choreography.json file")
            loaded, inputs = load_plan(source), self._inputs(values)
            if loaded.motion is not None and inputs[3] is None:
                raise PlanEditError(T.PLAN_NEEDS_MOTION.format(name=loaded.motion.source.name))
            if loaded.motion is None and inputs[3] is not None:
                raise PlanEditError(T.PLAN_NOT_MOTION)
            planned, paths = self._show(*inputs, plan=loaded)
            plan = planned.plan
            message = T.PLAN_LOADED.format(phrases=len(plan.phrases), style=plan.style, seed=plan.seed)
            if plan.motion is not None:
                message = self._motion_message(plan, T.PLAN_MOTION_LOADED)
            return self._outputs(planned, paths, message)
        except Exception as exc:
            return self._failed(T.PLAN_NOT_LOADED, exc, shown, rows)

    def follow(self, values: Mapping[str, Any], request=None) -> dict:
        """The page's skeleton preview after an input changed: the plan shown, danced on the new inputs; when it
        no longer fits the music (other music, another segment) it is dropped and the preview is a fresh dance.
        Returns the panel's outputs."""
        shown, forgotten = values.get("plan"), T.PLAN_FORGOTTEN
        if shown is not None:
            try:
                inputs = self._inputs(values)
                if fits_motion(shown, inputs[3]):
                    planned, paths = self._show(*inputs, plan=shown)
                    return {k: v for k, v in self._outputs(planned, paths, "").items()
                            if k in ("skeleton", "skeleton_text", "motion_source")}
                forgotten = T.PLAN_FORGOTTEN_MOTION  # another motion file (or one added or removed)
            except ChoreographyPlanError:
                pass
            except UserError:  # a missing or unusable input: the preview says why, the plan stays
                return self.app.skeleton_preview(values)
            except Exception as exc:  # our bug: logged, said in place of the preview; the plan stays
                message = capital(report_internal(logger, "skeleton preview", exc)) + "."
                return dict(skeleton=None, skeleton_text=T.SKELETON_FAILED.format(message=message))
        preview = self.app.skeleton_preview(values)
        if shown is None:
            return preview
        return {**preview, "plan": None, "table": [], "plan_text": forgotten, "plan_file": None}
