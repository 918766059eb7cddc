"""Every metric of every video of one generation, measured as the frames stream past, and the report's
``metrics`` dict (its layout is in the package docstring, :mod:`dancegen.metrics`); :func:`generation_report`: the
whole report.json of a generation around it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..config import GenerationSettings
from ..face.analyser import FaceAnalyser, FaceResult
from ..pose.detect import BodyDetector
from . import BASELINE_NOTE
from .identity import IdentityMeter, IdentityScore, sampled_frames
from .motion import RedetectedMotion, beat_alignment_score
from .quality import STILL_MARGIN, FlickerMeter, GroundTruthMeter, lpips_missing, margin_px

OFFLINE_SOURCE = "offline"  # the face-model source that always judges identity
NO_GROUND_TRUTH = ("no ground-truth video was given, so PSNR, SSIM and LPIPS are not computed "
                   "(generate --ground-truth FILE)")
NO_POSE_MODEL = ("beat alignment of the generated frames needs a body keypoint model (DWPose weights, real path) "
                 "to re-detect the poses; not computed (the planned motion's beat alignment is given)")
NO_FACE_IN_PHOTO = "no face in the photo, so identity similarity and stability are not computed"


class GenerationMetrics:
    """The metrics of the videos ``names`` (e.g. baseline and identity) of one generation.

    ``judges``: (face analyser, the photo's face as it sees it, or None) per recognition model; the offline models
    must be among them, so the model that feeds the face encoder is never the only judge. ``planned_poses``
    [T, 18, 2] and ``beats_s``: the dance both videos follow and the music's beats. ``body_detector``: re-detects
    poses in the generated frames when given (DWPose). ``ground_truth``: a ground-truth video will be passed to
    :meth:`add`. Memory stays flat in the video's length: identity looks at up to ``max_identity_frames`` sampled
    frames, flicker keeps one frame per video, the ground-truth meters keep sums.
    """

    def __init__(self, names: Sequence[str], n_frames: int, fps: float, size: tuple[int, int], beats_s,
                 planned_poses: np.ndarray, judges: Sequence[tuple[FaceAnalyser, FaceResult | None]],
                 skeleton_scale: int = 1, body_detector: BodyDetector | None = None, ground_truth: bool = False,
                 still_margin: float = STILL_MARGIN, max_identity_frames: int = 32):
        if judges and not any(analyser.source == OFFLINE_SOURCE for analyser, _ in judges):
            raise ValueError("the offline face models must judge identity too, not only the encoder's own model")
        self.names, self.n_frames, self.fps = list(names), int(n_frames), float(fps)
        self.beats_s = np.asarray(beats_s, dtype=np.float64)
        self.planned = round(beat_alignment_score(planned_poses, fps, self.beats_s), 4)
        self.models = [analyser.recognizer for analyser, _ in judges]  # e.g. ["w600k_mbf", "glintr100"]
        self.scored = sampled_frames(self.n_frames, max_identity_frames).tolist()
        # (video, model) -> meter; a model that found no face in the photo has none
        self.identity = {(name, analyser.recognizer): IdentityMeter(analyser, reference, self.n_frames,
                                                                    max_identity_frames)
                         for name in self.names for analyser, reference in judges if reference is not None}
        self.notes: list[str] = []
        for analyser, reference in judges:
            if reference is None:
                self.notes.append(NO_FACE_IN_PHOTO if analyser.source == OFFLINE_SOURCE else
                                  f"{analyser.recognizer} found no face in the photo, so it does not judge identity")
        self.flicker = FlickerMeter(self.names, margin_px(*size, still_margin), skeleton_scale)
        self.output_flicker = FlickerMeter(self.names, margin_px(*size, still_margin), skeleton_scale)
        self.motion = {name: RedetectedMotion(body_detector, self.n_frames) for name in self.names} \
            if body_detector is not None else {}
        if body_detector is None:
            self.notes.append(NO_POSE_MODEL)
        lpips_note = lpips_missing() if ground_truth else None
        if ground_truth:
            self.truth = {name: GroundTruthMeter(lpips=lpips_note is None) for name in self.names}
            self.notes += [lpips_note] if lpips_note else []
        else:
            self.truth = {}
            self.notes.append(NO_GROUND_TRUTH)

    def add(self, start: int, frames: dict[str, np.ndarray], skeletons: np.ndarray,
            truth: np.ndarray | None = None) -> None:
        """Frames start .. start + n - 1 of every video ({name: [n, H, W, 3] uint8}), their skeleton drawings
        [n, scale * H, scale * W, 3] and the ground truth's frames at the same times ([m <= n, H, W, 3]; fewer once
        it has ended)."""
        for (name, _), meter in self.identity.items():
            meter.add(start, frames[name])
        self.flicker.add(frames, skeletons)
        for name, motion in self.motion.items():
            motion.add(start, frames[name])
        for name, meter in self.truth.items():
            meter.add(frames[name], truth if truth is not None else frames[name][:0])

    def add_output(self, frames: dict[str, np.ndarray], skeletons: np.ndarray) -> None:
        """The next output frames of every video ({name: [m, H, W, 3]}, at the output rate, in-between frames
        included) and their skeleton drawings: only their flicker is measured (the other metrics judge the
        generated frames)."""
        self.output_flicker.add(frames, skeletons)

    def _row(self, name: str, scores: dict[tuple[str, str], IdentityScore]) -> dict:
        row: dict = {}
        for model in self.models:
            score = scores.get((name, model))
            row[f"csim_{model}"] = score.mean if score else None
            row[f"face_rate_{model}"] = score.face_found if score else None
            row[f"stability_{model}"] = score.stability_mean if score else None
        row["beat_alignment_planned"] = self.planned
        motion = self.motion.get(name)
        generated = motion.beat_alignment(self.fps, self.beats_s) if motion is not None else None
        row["beat_alignment_generated"] = round(generated, 4) if generated is not None else None
        row["body_rate"] = round(motion.body_rate(), 4) if motion is not None else None
        row.update(self.flicker.score(name))
        row["flicker_output"] = self.output_flicker.score(name)["flicker"]
        meter = self.truth.get(name)
        row.update(meter.score() if meter is not None else {"psnr": None, "ssim": None, "lpips": None,
                                                            "gt_frames": None})
        return row

    def report(self) -> dict:
        """The ``metrics`` dict of report.json (layout: :mod:`dancegen.metrics`)."""
        notes = list(self.notes)
        scores = {key: meter.score() for key, meter in self.identity.items()}
        videos = {name: self._row(name, scores) for name in self.names}
        per_frame: dict[str, dict] = {name: {} for name in self.names}
        for (name, model), score in scores.items():
            per_frame[name][f"csim_{model}"] = score.similarity
            per_frame[name][f"stability_{model}"] = score.stability
        for (name, model), score in scores.items():
            if score.mean is None:
                notes.append(f"{model} found no face in any of the {len(score.frame_index)} scored frames of the "
                             f"{name} video, so its identity similarity and stability are null (face rate 0)")
            elif score.stability_mean is None:
                notes.append(f"{model} found a face in only one scored frame of the {name} video, so its identity "
                             "stability (which compares neighbouring scored frames) is null")
        for name, meter in self.truth.items():
            if 0 < meter.frames < self.n_frames:
                notes.append(f"the ground truth ends after {meter.frames} of {self.n_frames} frames; only those "
                             "were compared")
            elif meter.frames and videos[name]["psnr"] is None:
                notes.append(f"PSNR of {name} is infinite: a frame equals its ground truth")
            elif not meter.frames:
                notes.append("the ground-truth video ends before the dance starts; nothing was compared")
        return {"baseline_note": BASELINE_NOTE, "face_models": self.models, "scored_frames": self.scored,
                "videos": videos, "per_frame": per_frame, "notes": list(dict.fromkeys(notes))}


def generation_report(about: dict, settings: GenerationSettings, *, mode: str, id_tokens: int, frames: int,
                      output_frames: int, size: tuple[int, int], crop_box, photo_size: tuple[int, int], steps: int,
                      guidance: float, music, music_sha256: str, style: str, dance: dict, face: FaceResult | None,
                      metrics: dict, timings: dict[str, float], warnings: list[str],
                      motion: dict | None = None) -> dict:
    """report.json of a generation: what ran where (``about``: the studio's description), the request as made
    (``frames`` generated, ``output_frames`` in the videos, ``size`` (W, H), the photo's ``crop_box`` (x1, y1, x2,
    y2) and ``photo_size``), the music segment (``music``: its offset_s, duration_s, tempo_bpm and beats_s; the
    file's sha256), the dance's ``style``, the ``motion`` file's record when it came from one (reading, cleaning,
    fitting) and ``dance`` metrics, the face, every video's ``metrics`` (see
    :meth:`GenerationMetrics.report`), seconds per stage and the warnings."""
    s = settings
    return {
        **about,
        "mode": mode, "framing": str(s.framing), "alpha": s.alpha, "id_tokens": id_tokens,
        "seed": s.seed, "fps": s.fps, "frames": frames, "seconds": round(frames / s.fps, 3),
        "output_fps": s.output_fps, "output_frames": output_frames,
        "width": size[0], "height": size[1], "crop_box": list(crop_box),
        "photo_size": list(photo_size), "steps": steps,
        "guidance": guidance,
        "music": {"offset_s": music.offset_s, "duration_s": round(music.duration_s, 3),
                  "tempo_bpm": round(music.tempo_bpm, 2), "beats": int(len(music.beats_s)),
                  "sha256": music_sha256},
        "style": style,
        **({} if motion is None else {"motion": motion}),
        "dance": dance,
        "face": face.to_dict() if face is not None else None,
        "metrics": metrics,
        "timings_s": timings,
        "warnings": warnings,
    }
