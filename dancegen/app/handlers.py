"""What the page's events do (:class:`DanceApp`), callable directly (tests), through Gradio events and the API.

The handlers talk only to :class:`dancegen.studio.DanceStudio`, created once and shared by every request.
Previews (face crop, music summary, skeleton video) are quick events; generation runs in Gradio's queue with a
progress bar over the denoising steps and a Stop button that ends the run between two steps.

Errors reach the page by kind (:mod:`dancegen.errors`): a :class:`UserError` is shown as the user's problem, in
their words; a resource limit says what to try; anything else is logged with its traceback and shown as ours, with
the id it was logged under. All the text a person reads lives in :mod:`.text`.

On a Hugging Face Space with the ``spaces`` package, generation runs inside ``spaces.GPU`` (ZeroGPU) with a GPU
time request sized from the request (frames x steps); elsewhere the same code runs unchanged.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import importlib
import importlib.util
import logging
import math
import os
import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

import gradio as gr

from ..config import GenerationSettings, ServeConfig, check_seconds
from ..errors import (GenerationCancelled, MusicError, NoFaceError, PhotoError, ResourceLimit, SettingsError,
                      UserError, report_internal)
from ..studio import DanceStudio, GenerationResult
from . import text as T
from .plots import music_plot_table, similarity_view

logger = logging.getLogger(__name__)

MIN_MUSIC_S = 2.0  # the music stage refuses shorter segments
AUTO = "auto"  # a width or height that follows the photo's shape (as does None or "")


def _no_results() -> tuple:
    """The cleared result outputs: videos, download, plot (hidden), similarity text (fresh updates each time:
    Gradio consumes the update dicts it is given)."""
    return None, None, None, gr.update(value=None, visible=False), ""


def _ready_buttons() -> tuple:
    """Generate on, Stop off."""
    return gr.update(interactive=True), gr.update(interactive=False)


def _clock(seconds: float) -> str:
    """12 s, 1:05, 1:02:03."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


# ----------------------------------------------------------------------------------------------- helpers


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _sentence(exc: BaseException) -> str:
    """An exception's one-line message with a capital first letter (no traceback, no class name)."""
    text = str(exc).strip()
    return _capital(text.splitlines()[0] if text else type(exc).__name__)


@contextlib.contextmanager
def _reported(what: str) -> Iterator[None]:
    """Turn what goes wrong into gr.Error by kind: the user's problem in their words, a resource limit with what to
    try, anything else logged with its traceback and shown as ours."""
    try:
        yield
    except (gr.Error, GenerationCancelled):
        raise
    except UserError as exc:
        raise gr.Error(_sentence(exc), print_exception=False) from None
    except ResourceLimit as exc:
        logger.warning("%s: %s", what, exc)
        raise gr.Error(_sentence(exc), print_exception=False) from None
    except Exception as exc:
        raise gr.Error(_capital(report_internal(logger, what, exc)) + ".", print_exception=False) from None


def upload_source(value: Any) -> str | bytes | None:
    """An uploaded file as a path (or bytes for a data: URL) from a path, a Gradio FileData dict or object."""
    if value is None or value == "":
        return None
    if isinstance(value, (str, os.PathLike)):
        return os.fspath(value)
    if isinstance(value, dict):
        path, url = value.get("path"), value.get("url")
    else:
        path, url = getattr(value, "path", None), getattr(value, "url", None)
    if path:
        return os.fspath(path)
    if isinstance(url, str) and url.startswith("data:") and "," in url:
        try:
            return base64.b64decode(url.split(",", 1)[1], validate=False)
        except (binascii.Error, ValueError):
            return b""  # undecodable: the face stage reports an empty photo file
    return None


def _number(value: Any, name: str, default: float | None = None) -> float | None:
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SettingsError(T.BAD_NUMBER.format(name=name, value=value)) from None
    if not math.isfinite(number):
        raise SettingsError(T.BAD_NUMBER.format(name=name, value=value))
    return number


def _integer(value: Any, name: str, default: int | None = None) -> int | None:
    number = _number(value, name, None if default is None else float(default))
    return None if number is None else int(round(number))


def session_key(request: gr.Request | None) -> str:
    """Whose run a Stop press belongs to: the browser tab's (or API client's) session."""
    return getattr(request, "session_hash", None) or "local"


def on_space() -> bool:
    """True on a Hugging Face Space whose image has the `spaces` package (ZeroGPU's decorator)."""
    return bool(os.environ.get("SPACE_ID")) and importlib.util.find_spec("spaces") is not None


class StopSwitch:
    """Per-session stop flags. Stop sets the flag of its own session's run; the run checks it between steps.

    A flag is armed when Generate is clicked and the run *begins* when its queued handler starts. A run that was
    armed but has not begun may be waiting in the queue, or may never come (Gradio turned it away: the queue was
    full): Stop then sets its flag (a run that does start later ends at once) and the page is ready again at once.
    """

    def __init__(self) -> None:
        self._flags: dict[str, threading.Event] = {}
        self._begun: set[threading.Event] = set()  # flags whose run's handler has started
        self._lock = threading.Lock()

    def arm(self, key: str) -> threading.Event:
        """A fresh, unset flag for the session's next run (replacing any older one)."""
        with self._lock:
            event = self._flags[key] = threading.Event()
            return event

    def begin(self, key: str) -> threading.Event:
        """The run's handler starts: the session's armed flag (or a fresh one when the run was started without
        arming: API calls), marked as begun."""
        with self._lock:
            event = self._flags.get(key)
            if event is None:
                event = self._flags[key] = threading.Event()
            self._begun.add(event)
            return event

    def running(self, key: str) -> bool:
        """Whether the session has a run whose handler has started and not ended."""
        with self._lock:
            event = self._flags.get(key)
            return event is not None and event in self._begun

    def waiting(self, key: str) -> bool:
        """Whether the session has a run going or waiting to start (not one stopped before it started)."""
        with self._lock:
            event = self._flags.get(key)
            return event is not None and (event in self._begun or not event.is_set())

    def peek(self, key: str) -> threading.Event | None:
        with self._lock:
            return self._flags.get(key)

    def stop(self, key: str) -> bool:
        """Ask the session's run to stop; False when nothing is running or waiting for it."""
        with self._lock:
            event = self._flags.get(key)
        if event is None:
            return False
        event.set()
        return True

    def release(self, key: str, event: threading.Event) -> None:
        """The run that used ``event`` is over (a newer run's flag is left alone)."""
        with self._lock:
            self._begun.discard(event)
            if self._flags.get(key) is event:
                del self._flags[key]

    def discard(self, key: str) -> None:
        with self._lock:
            event = self._flags.pop(key, None)
            self._begun.discard(event)



def _notices(lines) -> str:
    return "\n".join(f"- {T.NOTICE.format(text=line)}" for line in lines)


# ----------------------------------------------------------------------------------------------- handlers


class DanceApp:
    """The handlers of the page, callable directly (tests) or through Gradio events and the API."""

    def __init__(self, studio: DanceStudio, config: ServeConfig = ServeConfig()):
        self.studio = studio
        self.config = config
        self.stops = StopSwitch()
        zero_gpu = on_space() if config.zero_gpu is None else config.zero_gpu
        self._run = self.run_generation
        if zero_gpu:
            spaces = importlib.import_module("spaces")
            self._run = spaces.GPU(duration=self.gpu_seconds)(self.run_generation)

    # ---- settings

    @property
    def max_music_s(self) -> float:
        return float(self.studio.config.max_music_s)

    def default_seconds(self) -> float:
        return max(MIN_MUSIC_S, min(self.config.default_seconds, self.max_music_s))

    def settings(self, offset=0.0, length=None, alpha=1.0, id_tokens=None, seed=None, steps=None, guidance=None,
                 fps=8.0, width=None, height=None, framing=None, output_fps=None) -> GenerationSettings:
        """Control values (numbers, strings or None) -> GenerationSettings, which checks the ranges (gr.Error)."""
        with _reported("settings"):
            return self._settings(offset, length, alpha, id_tokens, seed, steps, guidance, fps, width, height,
                                  framing, output_fps)

    def _settings(self, offset=0.0, length=None, alpha=1.0, id_tokens=None, seed=None, steps=None, guidance=None,
                  fps=8.0, width=None, height=None, framing=None, output_fps=None) -> GenerationSettings:
        """Control values -> GenerationSettings (SettingsError for a value that is not a number or out of range).
        Width and height both "auto" (or None): the canvas follows the photo's shape."""
        defaults = GenerationSettings()
        size = tuple(None if value == AUTO else _integer(value, label)
                     for value, label in ((width, T.WIDTH_LABEL), (height, T.HEIGHT_LABEL)))
        if (size[0] is None) != (size[1] is None):
            raise SettingsError(T.SIZE_BOTH)
        return GenerationSettings(
            alpha=_number(alpha, T.ALPHA_LABEL, defaults.alpha),
            id_tokens=_integer(id_tokens, T.TOKENS_LABEL),
            seed=_integer(seed, T.SEED_LABEL, defaults.seed),
            steps=_integer(steps, T.STEPS_LABEL),
            guidance=_number(guidance, T.GUIDANCE_LABEL),
            fps=_number(fps, T.FPS_LABEL, defaults.fps),
            output_fps=_number(output_fps, T.OUTPUT_FPS_LABEL),  # None: 24, or fps when higher
            size=None if size[0] is None else size,
            music_offset_s=_number(offset, T.OFFSET_LABEL, 0.0),
            seconds=_number(length, T.LENGTH_LABEL, self.default_seconds()),
            framing=defaults.framing if framing in (None, "") else str(framing),
        )

    # ---- previews

    def face_preview(self, photo, width=None, height=None):
        """Photo (and the size, when one is chosen) -> (the photo as the video frames it, with the used face boxed
        and its aligned crop beside it; message). No face: no image and the reason."""
        source = upload_source(photo)
        if source is None:
            return None, T.FACE_HINT
        with _reported("face preview"):
            settings = self._settings(width=width, height=height)
            try:
                preview, face, crop = self.studio.face_preview(source, settings)
            except NoFaceError as exc:
                return None, T.NO_FACE.format(message=_sentence(exc))
        notes = " · ".join(_capital(n) for n in (*face.notes, *crop.notices()))
        return preview, T.FACE_NOTES.format(notes=notes, width=crop.canvas[0], height=crop.canvas[1])

    def face_preview_page(self, photo, width=None, height=None):
        """The page's face preview: like :meth:`face_preview`, with an unusable photo's reason shown beside it."""
        try:
            with _reported("face preview"):
                return self.face_preview(photo, width, height)
        except gr.Error as exc:
            return None, T.NO_FACE.format(message=exc.message)

    def music_summary(self, music, offset=0.0, length=None):
        """Music -> (summary text with tempo, beats and notices, beat/energy plot update)."""
        path = upload_source(music)
        if not isinstance(path, str):
            return T.MUSIC_HINT, gr.update(value=None, visible=False)
        with _reported("music summary"):
            offset_s = _number(offset, T.OFFSET_LABEL, 0.0)
            seconds = _number(length, T.LENGTH_LABEL, self.default_seconds())
            check_seconds(GenerationSettings(seconds=seconds), self.max_music_s)  # the slider's range, for the API too
            analysis = self.studio.analyse_music(path, offset_s, seconds)
        text = T.MUSIC_SUMMARY.format(tempo=analysis.tempo_bpm, beats=len(analysis.beats_s),
                                      bars=len(analysis.downbeats_s), per_bar=analysis.beats_per_bar,
                                      duration=analysis.duration_s, offset=analysis.offset_s)
        total = analysis.source_duration_s
        if total is not None and total > analysis.duration_s + 0.5:
            text += "\n\n" + T.MUSIC_USED.format(used=_clock(analysis.duration_s), total=_clock(total),
                                                  start=_clock(analysis.offset_s))
        if analysis.notices:
            text += "\n\n" + _notices(analysis.notices)
        return text, gr.update(value=music_plot_table(analysis), visible=True)

    def music_summary_page(self, music, offset=0.0, length=None):
        """The page's music summary: like :meth:`music_summary`, with unusable music's reason shown in its place."""
        try:
            return self.music_summary(music, offset, length)
        except gr.Error as exc:
            return T.NO_FACE.format(message=exc.message), gr.update(value=None, visible=False)

    def skeleton_preview(self, photo, music, offset=0.0, length=None, fps=8.0, seed=None, width=None, height=None,
                         framing=None, output_fps=None):
        """Photo + music -> (skeleton mp4 with the music, message). Missing or unusable input: no video, the reason.

        Face and music problems are reported inline (the face and music previews already raised them)."""
        path, source = upload_source(music), upload_source(photo)
        if not isinstance(path, str):
            return None, T.SKELETON_NEEDS_MUSIC
        if source is None:
            return None, T.SKELETON_NEEDS_PHOTO
        settings = self.settings(offset=offset, length=length, fps=fps, seed=seed, width=width, height=height,
                                 framing=framing, output_fps=output_fps)
        with _reported("skeleton preview"):
            try:
                video_path = self.studio.skeleton_preview(source, path, settings)
            except (PhotoError, MusicError) as exc:
                return None, T.SKELETON_FAILED.format(message=_sentence(exc))
        return str(video_path), T.SKELETON_READY

    # ---- generation

    def gpu_seconds(self, photo, music, settings: GenerationSettings, session: str = "local", plan=None) -> int:
        """ZeroGPU time request for one run, from its frames x steps and size (a generous estimate)."""
        seconds = settings.seconds if settings.seconds is not None else self.max_music_s
        frames = max(1, round(min(seconds, self.max_music_s) * settings.fps))
        steps = settings.steps or self.studio.preset.steps
        width, height = settings.size or self.studio.preset.portrait  # the photo's canvas, at most this large
        scale = width * height / (512 * 512)
        cfg = self.config
        estimate = cfg.gpu_s_base + frames * steps * scale * cfg.gpu_s_per_frame_step + frames * cfg.gpu_s_per_frame
        return int(min(cfg.gpu_s_max, math.ceil(estimate)))

    def run_generation(self, photo, music, settings: GenerationSettings, session: str = "local",
                       plan=None) -> Iterator[tuple]:
        """Run studio.generate in a worker thread (dancing ``plan``, a DancePlan, when given); yield ("progress",
        Progress) ..., then ("result", result).

        A generator with picklable arguments and items, so the same code runs in-process and inside ZeroGPU's
        forked GPU worker (where the session's stop flag is not visible and a run ends on its own).
        """
        events: queue.Queue = queue.Queue()
        flag = self.stops.peek(session)
        abandoned = threading.Event()  # the consumer went away (generator closed): stop at the next window

        def should_stop() -> bool:
            return abandoned.is_set() or (flag is not None and flag.is_set())

        def work() -> None:
            try:
                result = self.studio.generate(photo, music, settings, progress=lambda p: events.put(("progress", p)),
                                              should_stop=should_stop, plan=plan)
                events.put(("result", result))
            except BaseException as exc:  # handed to the consumer, which raises it in the request's thread
                events.put(("error", exc))

        worker = threading.Thread(target=work, name="dancegen-generate", daemon=True)
        worker.start()
        try:
            while True:
                item = events.get()
                if item[0] == "error":
                    raise item[1]
                yield item
                if item[0] == "result":
                    return
        finally:
            abandoned.set()

    def _generate(self, photo, music, controls: tuple, request: gr.Request | None, progress: gr.Progress,
                  plan=None, style=None):
        """Run one generation for this session (dancing ``plan`` when given, else planning one in ``style``): -> the
        six result outputs. Raises what went wrong as it is (UserError, ResourceLimit, GenerationCancelled, or one
        of our bugs); the callers decide how to show it."""
        key = session_key(request)
        flag = self.stops.begin(key)  # armed by the Generate click (or made now for an API call)
        start = time.perf_counter()
        try:  # whatever happens, the session's flag goes with this run
            source, path = upload_source(photo), upload_source(music)
            if source is None:
                raise PhotoError(T.NO_PHOTO)
            if not isinstance(path, str):
                raise MusicError(T.NO_MUSIC)
            settings = self._settings(*controls)
            if plan is None and style not in (None, "", AUTO):
                settings = dataclasses.replace(settings, style=str(style))
            if flag.is_set():
                raise GenerationCancelled("stopped before it started")
            progress(0.0, desc=T.PROGRESS_PREPARING)
            for item in self._run(source, path, settings, key, plan):
                if item[0] == "result":
                    return self._result_outputs(item[1], time.perf_counter() - start)
                p = item[1]
                progress(p.fraction, desc=T.PROGRESS.format(stage=T.STAGES[p.stage], detail=p.detail,
                                                            elapsed=_clock(p.elapsed_s),
                                                            remaining=_clock(p.remaining_s)))
            raise RuntimeError("the generator ended without a result")
        finally:
            self.stops.release(key, flag)

    def generate(self, photo, music, offset=0.0, length=None, alpha=1.0, id_tokens=None, seed=None, steps=None,
                 guidance=None, fps=8.0, width=None, height=None, framing=None, output_fps=None,
                 request: gr.Request | None = None,
                 progress: gr.Progress = gr.Progress()):
        """The API's generation: photo + music + settings -> (baseline mp4, identity mp4, side-by-side mp4,
        similarity plot update, similarity text, notes). What goes wrong is raised as gr.Error with its message (a
        script gets an exception); a Stop press returns empty results and says so."""
        controls = (offset, length, alpha, id_tokens, seed, steps, guidance, fps, width, height, framing,
                    output_fps)
        try:
            with _reported("generation"):
                return self._generate(photo, music, controls, request, progress)
        except GenerationCancelled:
            return (*_no_results(), T.STATUS_STOPPED)

    def generate_page(self, photo, music, offset=0.0, length=None, alpha=1.0, id_tokens=None, seed=None, steps=None,
                      guidance=None, fps=8.0, width=None, height=None, framing=None, output_fps=None, plan=None,
                      style=None,
                      request: gr.Request | None = None, progress: gr.Progress = gr.Progress()):
        """The page's generation: the six results, then the Generate and Stop buttons, the status line and the face
        and music messages. Whatever happens (done, bad input, out of memory, Stop, our bug) every one of them is
        set, so the page is ready for the next try; the message stays in the status line, and beside the photo or
        the music when it is about one of them, until the next action. ``plan``: the choreography panel's plan
        (a DancePlan) to dance; without one the dance is planned in ``style`` (None or "auto": from the music)."""
        controls = (offset, length, alpha, id_tokens, seed, steps, guidance, fps, width, height, framing,
                    output_fps)
        keep = gr.update()
        try:
            results = self._generate(photo, music, controls, request, progress, plan, style)
        except GenerationCancelled:
            return (*_no_results(), T.STATUS_STOPPED, *_ready_buttons(), T.STATUS_STOPPED, keep, keep)
        except PhotoError as exc:
            message = _sentence(exc)
            return (*_no_results(), "", *_ready_buttons(), T.STATUS_FAILED.format(message=message),
                    T.NO_FACE.format(message=message), keep)
        except MusicError as exc:
            message = _sentence(exc)
            return (*_no_results(), "", *_ready_buttons(), T.STATUS_FAILED.format(message=message), keep,
                    T.NO_FACE.format(message=message))
        except (UserError, ResourceLimit) as exc:
            if isinstance(exc, ResourceLimit):
                logger.warning("generation: %s", exc)
            return (*_no_results(), "", *_ready_buttons(), T.STATUS_FAILED.format(message=_sentence(exc)), keep, keep)
        except Exception as exc:
            message = _capital(report_internal(logger, "generation", exc)) + "."
            return (*_no_results(), "", *_ready_buttons(), T.STATUS_FAILED.format(message=message), keep, keep)
        return (*results, *_ready_buttons(), T.STATUS_DONE.format(notes_hint=T.STATUS_DONE_HINT), keep, keep)

    def _result_outputs(self, result: GenerationResult, elapsed_s: float):
        report = result.report
        table, similarity_text = similarity_view(report.get("metrics") or {})
        plot = gr.update(value=table, visible=table is not None)
        summary = T.RESULT_SUMMARY.format(frames=report["frames"], seconds=report["seconds"], fps=report["fps"],
                                          output_fps=report["output_fps"],
                                          width=report["width"], height=report["height"], steps=report["steps"],
                                          total=elapsed_s)
        notes = summary + ("\n\n" + _notices(result.warnings) if result.warnings else "")
        videos = result.videos

        def path(name: str) -> str | None:
            return str(videos[name]) if name in videos else None

        return path("baseline"), path("identity"), path("side_by_side"), plot, similarity_text, notes

    # ---- time estimate

    def estimate(self, music, offset=0.0, length=None, fps=8.0, steps=None, width=None, height=None,
                 photo=None) -> str:
        """How long Generate will take with these settings (and this photo's canvas), from this machine's measured
        rates."""
        try:
            settings = self._settings(offset, length, 1.0, None, None, steps, None, fps, width, height, None)
        except UserError:
            return ""
        photo_size = None
        if upload_source(photo) is not None:
            with contextlib.suppress(UserError):
                photo_size = self.studio.photo_size(upload_source(photo))
        seconds = settings.seconds or self.default_seconds()
        path = upload_source(music)
        if isinstance(path, str):  # the music may end before the chosen length
            try:
                seconds = self.studio.analyse_music(path, settings.music_offset_s, settings.seconds).duration_s
            except UserError:
                return ""
        frames = max(1, round(seconds * settings.fps))
        total = sum(self.studio.estimate(settings, seconds, photo_size).values())
        return T.ESTIMATE.format(time=_clock(total), frames=frames, steps=settings.steps or self.studio.preset.steps,
                                 measured=T.ESTIMATE_MEASURED if self.studio.timer.runs else T.ESTIMATE_CALIBRATED)

    # ---- run control (buttons) and the status line

    def arm(self, request: gr.Request | None = None):
        """Generate was clicked: a fresh stop flag for this session; Generate off and Stop on while it runs."""
        self.stops.arm(session_key(request))
        return gr.update(interactive=False), gr.update(interactive=True), T.STATUS_QUEUED

    def stop(self, request: gr.Request | None = None) -> str:
        """Stop this session's run between two denoising windows (or before it starts, if it is still queued)."""
        key = session_key(request)
        if not self.stops.stop(key):
            return T.STATUS_NOTHING_TO_STOP
        return T.STATUS_STOPPING if self.stops.running(key) else T.STATUS_STOPPED  # not begun: stopped now

    def buttons_after_stop(self, request: gr.Request | None = None):
        """After a Stop press with no run going (none armed, or one armed whose handler never started: still queued,
        or turned away by a full queue), Generate is on and Stop off, whatever the page showed; a running run
        resets the page itself when it ends."""
        if not self.stops.running(session_key(request)):
            return _ready_buttons()
        return gr.update(), gr.update()

    def idle_status(self, request: gr.Request | None = None):
        """A new action: the status line says Ready again, unless this session's run is still going."""
        return gr.update() if self.stops.waiting(session_key(request)) else T.STATUS_READY
