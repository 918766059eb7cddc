"""A motion file danced on the photo's body: read (:mod:`.sources`), cleaned (:mod:`.clean`), fitted
(:mod:`.fit`) and put on the song's clock (:mod:`.warp`), with the plan that records it (a version-2
``choreography.json``: :class:`~dancegen.choreo.document.MotionPlan`).

Timing: with a song, the motion's hits go onto the song's beats (``"beats"``: :func:`.warp.plan_warp` of
:func:`.warp.motion_beats`); when the music is the dance video's own sound the motion keeps its timing (``"kept"``:
one segment, song time t showing the video at offset + t). A replayed plan dances its recorded segments (edited or
not), from the same motion file only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..choreo.document import MOTION_STYLE, DancePlan, MotionPlan, MotionSegment, MusicRef
from ..music import MusicAnalysis
from ..pose.layout import BodyLayout
from .clean import CleanConfig, CleanReport, clean_motion
from .errors import MotionError
from .fit import bone_length_error, fit_to_body
from .sources import MotionClip, read_motion
from .warp import WarpSegment, apply_warp, motion_beats, plan_warp, source_frames


@dataclass(frozen=True, eq=False)
class MotionDance:
    """A motion file made into a dance: everything its report and preview need."""

    clip: MotionClip  # the motion as read
    clean: np.ndarray  # [Ts, 18, 2] float64 cleaned source px at clip.ref.fps (NaN: a face turned away)
    fitted: np.ndarray  # [Ts, 18, 2] float64 canvas px on the photo's body, at clip.ref.fps
    cleaning: CleanReport  # what the cleaning filled
    segments: tuple[WarpSegment, ...]  # the song's clock -> the motion's
    timing: str  # "beats" or "kept"
    bone_error: float  # mean over bones of |fitted length / photo length - 1|

    def report(self) -> dict:
        """report.json's ``"motion"``: the file, the cleaning, the fit and the warp."""
        ref = self.clip.ref
        return {"name": ref.name, "sha256": ref.sha256, "kind": ref.kind, "frames": ref.frames, "fps": ref.fps,
                "most_people": self.clip.most_people, "cleaning": self.cleaning.to_json(),
                "bone_length_error": round(self.bone_error, 4), "timing": self.timing,
                "segments": len(self.segments)}


def as_clip(motion: MotionClip | str | os.PathLike, detector=None) -> MotionClip:
    """A read motion, or the motion of a path (:func:`.sources.read_motion` at its default rate, ``detector``
    for a video: DWPose)."""
    return motion if isinstance(motion, MotionClip) else read_motion(motion, detector=detector)


def music_for(music_path: str | os.PathLike | None, clip: MotionClip | None) -> Path:
    """The music to dance to: ``music_path``, else the dance video's own sound. MotionError when there is none."""
    if music_path is not None:
        return Path(music_path)
    if clip is None:
        raise MotionError("give the music to dance to with --music")
    if clip.ref.kind != "video":
        raise MotionError(f"{clip.ref.name} holds poses without sound: give the song to dance to with --music")
    if not clip.has_audio:
        raise MotionError(f"the dance video {clip.ref.name} has no sound: give the song to dance to with --music")
    return clip.path


def check_replay(plan: DancePlan, clip: MotionClip | None) -> None:
    """MotionError unless a plan with a motion is replayed with that motion file, and one without with none."""
    if plan.motion is None:
        if clip is not None:
            raise MotionError("this choreography dances planned moves, not a motion file: dance it without one")
        return
    want = plan.motion.source
    if clip is None:
        raise MotionError(f"this choreography dances the motion file {want.name}: give that file as the motion")
    if clip.ref.sha256 != want.sha256:
        raise MotionError(f"this choreography was made from another motion file ({want.name}; the sha256 of "
                          f"{clip.ref.name} differs)")
    if clip.ref.frames != want.frames or clip.ref.fps != want.fps:
        raise MotionError(f"this choreography was made from {want.frames} frames at {want.fps:g} fps of "
                          f"{want.name}, not {clip.ref.frames} at {clip.ref.fps:g} (check the pose files' frame rate)")


def _check_cover(segments: tuple[WarpSegment, ...], song_s: float) -> None:
    """MotionError unless the recorded segments run from 0 to the end of the danced music (an edited plan whose
    segments stop early would leave the dancer frozen)."""
    end = segments[-1].song_end_s if segments else 0.0
    if not segments or abs(segments[0].song_start_s) > 1e-3 or abs(end - song_s) > 1e-3:
        start = segments[0].song_start_s if segments else 0.0
        raise MotionError(f"the choreography's motion segments run from {start:g} s to {end:g} s of the song; they "
                          f"must cover all of it, 0 s to {song_s:g} s")


def _kept(music: MusicAnalysis) -> tuple[WarpSegment, ...]:
    """The video's own timing: song time t (from the danced segment's start) shows the video at offset + t."""
    off, dur = float(music.offset_s), float(music.duration_s)
    return (WarpSegment(0.0, dur, ((0.0, off), (dur, off + dur)), False),)


def make_plan(clip: MotionClip, music: MusicAnalysis, ref: MusicRef, seed: int, timing: str,
              segments: tuple[WarpSegment, ...]) -> DancePlan:
    """The version-2 plan of a motion dance: the music, the motion file, the timing and the segments."""
    recorded = tuple(MotionSegment(s.song_start_s, s.song_end_s, tuple(s.knots), s.mirrored) for s in segments)
    return DancePlan(music=ref, style=MOTION_STYLE, seed=int(seed), meter=int(music.beats_per_bar),
                     sections=tuple(music.sections), phrases=(),
                     motion=MotionPlan(source=clip.ref, timing=timing, segments=recorded))


def dance_motion(clip: MotionClip, music: MusicAnalysis, body: BodyLayout, fps: float, frames: int, ref: MusicRef,
                 seed: int, plan: DancePlan | None = None, own_sound: bool = False,
                 config: CleanConfig = CleanConfig()) -> tuple[DancePlan, np.ndarray, MotionDance]:
    """(the plan, poses [frames, 18, 2] float32 canvas px at ``fps``, the MotionDance): ``clip`` cleaned, fitted to
    ``body`` and put on the music's clock, by ``plan``'s recorded segments when replayed (checked with
    :func:`check_replay`), else by the timing of the module docstring (``own_sound``: the music is the dance video's
    own sound, so the motion keeps its timing)."""
    clean, cleaning = clean_motion(clip.poses, clip.scores, clip.found, clip.ref.fps, config)
    fitted = fit_to_body(clean, body)
    if plan is not None:
        check_replay(plan, clip)
        timing = plan.motion.timing
        segments = tuple(WarpSegment.from_json(s.to_json()) for s in plan.motion.segments)
        _check_cover(segments, music.duration_s)
    elif own_sound:
        timing, segments = "kept", _kept(music)
    else:
        timing = "beats"
        segments = plan_warp(motion_beats(fitted, clip.ref.fps), clip.seconds, music.beats_s, music.duration_s,
                             music.downbeats_s)
    poses = apply_warp(fitted, clip.ref.fps, segments, fps, frames, body.canvas_w)
    made = make_plan(clip, music, ref, seed, timing, segments) if plan is None else plan
    moved = MotionDance(clip=clip, clean=clean, fitted=fitted, cleaning=cleaning, segments=segments, timing=timing,
                        bone_error=bone_length_error(poses, body))
    return made, poses, moved


def write_motion_preview(moved: MotionDance, fps: float, frames: int, size: tuple[int, int], poses: np.ndarray,
                         path: Path) -> Path:
    """motion_source.mp4: the cleaned source skeleton beside the fitted one, frame by frame on the song's clock."""
    from .preview import write_preview  # OpenCV and the video writer load only here

    clean = moved.clean
    if moved.clip.size is not None:
        source_size = moved.clip.size
    else:  # pose files do not say their picture: the poses' extent, with a margin
        top = np.nanmax(clean.reshape(-1, 2), axis=0)
        source_size = (max(16, int(np.ceil(top[0] * 1.05))), max(16, int(np.ceil(top[1] * 1.05))))
    order = source_frames(moved.segments, moved.clip.ref.fps, len(clean), fps, frames)
    return write_preview(path, clean, poses, fps, size[0], size[1], source_size=source_size, order=order)
