"""The motion upload ("bring your own dance"): a dance video, a .zip of OpenPose JSON files or a poses .npy, read
through the studio's :class:`~dancegen.dance.DanceDesk` (DWPose for a video) into a
:class:`~dancegen.dance.MotionClip`, once per file and rate (:class:`MotionFiles`), and what the page says about it.

A video with sound can be the music: :func:`sound_path` is the file whose sound is danced to (the music, else such a
video), :func:`why_no_sound` why a motion cannot stand in for missing music.
"""

from __future__ import annotations

import collections
import os
import threading
from collections.abc import Mapping
from typing import Any

import gradio as gr

from ..dance import MOTION_FPS, VIDEO_SUFFIXES, DanceDesk, MotionClip, MotionError, NoPoseDetector
from ..errors import MusicError
from . import text as T
from .controls import number, upload_source

FILE_TYPES = [*VIDEO_SUFFIXES, ".zip", ".npy"]  # what the motion upload accepts


def is_video(path: str) -> bool:
    """Whether an uploaded motion file is a video (by its name, as the motion stage tells sources apart)."""
    return os.path.splitext(path)[1].lower() in VIDEO_SUFFIXES


def motion_fps(values: Mapping[str, Any]) -> float:
    """The rate of uploaded pose files (the motion_fps control; empty: the motion stage's default).
    SettingsError when it is no number."""
    fps = number(values.get("motion_fps"), T.MOTION_FPS_LABEL)
    return MOTION_FPS if fps is None else fps


def motion_upload(values: Mapping[str, Any]) -> str | None:
    """The motion upload's path (None: none); MotionError for an upload that is no file (a data: URL)."""
    source = upload_source(values.get("motion"))
    if source is not None and not isinstance(source, str):
        raise MotionError(T.MOTION_NOT_FILE)
    return source


def sound_path(values: Mapping[str, Any]) -> str | None:
    """The file whose sound is danced to: the music upload, else a motion upload that is a video (None: neither)."""
    music = upload_source(values.get("music"))
    if isinstance(music, str):
        return music
    motion = upload_source(values.get("motion"))
    if isinstance(motion, str) and is_video(motion):
        return motion
    return None


def music_of(values: Mapping[str, Any], clip: MotionClip | None) -> str | None:
    """The music upload's path; None when there is none and ``clip`` (the motion read) is a video whose sound is
    the music. MusicError saying what to upload otherwise."""
    path = upload_source(values.get("music"))
    if isinstance(path, str):
        return path
    why = T.NO_MUSIC if clip is None else why_no_sound(clip)
    if why is not None:
        raise MusicError(why)
    return None


def why_no_sound(clip: MotionClip) -> str | None:
    """Why ``clip`` cannot be the music when none is uploaded (a sentence), or None when it can (a video with
    sound)."""
    if clip.ref.kind != "video":
        return T.MOTION_NEEDS_SONG.format(name=clip.ref.name)
    if not clip.has_audio:
        return T.MOTION_VIDEO_SILENT.format(name=clip.ref.name)
    return None


def summary(clip: MotionClip) -> str:
    """The motion message: the file, its frames, rate and length, how its poses were found and who is followed."""
    ref = clip.ref
    text = T.MOTION_SUMMARY.format(name=ref.name, frames=ref.frames, fps=ref.fps, seconds=clip.seconds,
                                   source=T.MOTION_KINDS[ref.kind])
    if clip.most_people > 1:
        text += T.MOTION_PEOPLE.format(count=clip.most_people)
    if clip.has_audio:
        text += T.MOTION_SOUND
    return text


def source_view(path: str | os.PathLike | None) -> dict:
    """The update of the source-beside-fitted video (motion_source.mp4): shown with a path, else hidden."""
    return gr.update(value=None if path is None else str(path), visible=path is not None)


class MotionFiles:
    """Motion uploads read through ``desk``, the last ``keep`` kept by file and rate (a video's DWPose pass runs
    once, not again for every preview, plan and estimate). Safe to share between requests."""

    def __init__(self, desk: DanceDesk, keep: int = 4):
        self.desk = desk
        self.keep = keep
        self._read: collections.OrderedDict[tuple, MotionClip] = collections.OrderedDict()
        self._lock = threading.Lock()

    def clip(self, values: Mapping[str, Any]) -> MotionClip | None:
        """The motion upload of ``values`` read (None: no upload). MotionError (one line) for one that cannot be
        used; SettingsError for a rate that is no number."""
        path = motion_upload(values)
        if path is None:
            return None
        fps = motion_fps(values)
        try:
            st = os.stat(path)
        except OSError:
            raise MotionError(f"motion file not found: {os.path.basename(path)}") from None
        key = (os.path.abspath(path), st.st_size, st.st_mtime_ns, None if is_video(path) else fps)  # a video's own rate
        with self._lock:
            if key in self._read:
                self._read.move_to_end(key)
                return self._read[key]
        try:
            clip = self.desk.read_motion(path, fps)  # outside the lock: a video's DWPose pass takes a while
        except NoPoseDetector:  # the CLI's line names its flags; a visitor can only upload the poses instead
            raise NoPoseDetector(T.MOTION_NO_DETECTOR) from None
        with self._lock:
            self._read[key] = clip
            while len(self._read) > self.keep:
                self._read.popitem(last=False)
        return clip
