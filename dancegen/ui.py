"""The Gradio web app: the page (:func:`build_ui`) and the handlers behind it (:class:`DanceApp`).

The app talks only to :class:`dancegen.studio.DanceStudio`, created once by the caller (``app.py``) and shared by
every request. Previews (face crop, music summary, skeleton video) are quick events; generation runs in Gradio's
queue, one job at a time by default, with a progress bar over the denoising steps and a Stop button that ends the
run between two steps.

Bad input never shows a traceback: the stages raise ``ValueError`` subclasses with one-line messages a person
understands (``FaceError``, ``MusicError``, ``VideoError``, bad settings), and the handlers re-raise them as
``gr.Error``. All the text a person reads lives in :mod:`dancegen.ui_text`.

On a Hugging Face Space with the ``spaces`` package, generation runs inside ``spaces.GPU`` (ZeroGPU) with a GPU
time request sized from the request (frames x steps); elsewhere the same code runs unchanged.

Importing this module builds nothing and starts nothing.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import importlib
import importlib.util
import logging
import math
import os
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import pandas as pd

from . import music as music_mod
from . import ui_text as T
from .face import FaceError, NoFaceError
from .music import MusicError
from .pipeline import GenerationCancelled
from .studio import DanceStudio, GenerationResult, GenerationSettings

logger = logging.getLogger(__name__)

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"  # the repository's example photo and music
EXAMPLE_PHOTO = "astronaut.png"
EXAMPLE_MUSIC = "sample_music.wav"
MIN_MUSIC_S = 2.0  # the music stage refuses shorter segments
PLOT_POINTS = 400  # envelope points drawn in the music plot at most
# Series colours, named in the plots' labels (ui_text) instead of a legend, which Gradio's plot clips.
MUSIC_COLORS = {T.CURVE_ENERGY: "#4c78a8", T.CURVE_ONSETS: "#f58518", T.CURVE_BEATS: "#e45756"}
SIMILARITY_COLORS = {"baseline": "#4c78a8", "identity": "#e45756"}

CSS = """
#banner { border-left: 4px solid var(--color-accent); padding: 0.4em 0.8em; background: var(--block-background-fill); }
#generate-row button { min-height: 3em; }
"""


@dataclass(frozen=True)
class UIConfig:
    concurrency: int = 1  # generate jobs running at the same time; the others wait in the queue
    preview_concurrency: int = 2  # face / music / skeleton previews running at the same time (shared limit)
    max_queue: int | None = 32  # waiting requests beyond this are turned away by Gradio ("queue is full")
    max_file_size: str = "20mb"  # largest upload Gradio accepts (photo or music)
    examples_dir: str | None = None  # folder with astronaut.png and sample_music.wav (None: the repo's assets/)
    default_seconds: float = 6.0  # preselected dance length (s), capped at the studio's max_music_s
    zero_gpu: bool | None = None  # run generation in spaces.GPU; None: when on a Space with `spaces` importable
    gpu_s_per_frame_step: float = 0.1  # ZeroGPU time request: seconds per frame x denoising step at 512x512
    gpu_s_per_frame: float = 0.3  # ZeroGPU time request: seconds per frame for decoding, muxing and metrics
    gpu_s_base: float = 20.0  # ZeroGPU time request: fixed part (encoding, face, music), seconds
    gpu_s_max: float = 900.0  # ZeroGPU time request: upper bound, seconds


# ----------------------------------------------------------------------------------------------- helpers


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _sentence(exc: BaseException) -> str:
    """An exception's one-line message with a capital first letter (no traceback, no class name)."""
    text = str(exc).strip()
    return _capital(text.splitlines()[0] if text else type(exc).__name__)


@contextlib.contextmanager
def _user_errors(what: str) -> Iterator[None]:
    """Turn the stages' ValueErrors into gr.Error (the user reads the message); log anything else as a bug."""
    try:
        yield
    except (gr.Error, GenerationCancelled):
        raise
    except ValueError as exc:  # FaceError, MusicError, VideoError, WeightsError, bad settings
        raise gr.Error(_sentence(exc), print_exception=False) from None
    except Exception as exc:
        logger.exception("%s failed", what)
        raise gr.Error(T.UNEXPECTED.format(kind=type(exc).__name__), print_exception=False) from None


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
        raise gr.Error(T.BAD_NUMBER.format(name=name, value=value), print_exception=False) from None
    if not math.isfinite(number):
        raise gr.Error(T.BAD_NUMBER.format(name=name, value=value), print_exception=False)
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
    """Per-session stop flags. Stop sets the flag of its own session's run; the run checks it between steps."""

    def __init__(self) -> None:
        self._flags: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def arm(self, key: str) -> threading.Event:
        """A fresh, unset flag for the session's next run (replacing any older one)."""
        with self._lock:
            event = self._flags[key] = threading.Event()
            return event

    def current(self, key: str) -> threading.Event:
        """The session's armed flag, or a fresh one when the run was started without arming (API calls)."""
        with self._lock:
            event = self._flags.get(key)
            if event is None:
                event = self._flags[key] = threading.Event()
            return event

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
            if self._flags.get(key) is event:
                del self._flags[key]

    def discard(self, key: str) -> None:
        with self._lock:
            self._flags.pop(key, None)


# ------------------------------------------------------------------------------------------ plot tables


def music_plot_table(analysis: music_mod.MusicAnalysis, max_points: int = PLOT_POINTS) -> pd.DataFrame:
    """Long table (time, level, curve) of the energy and onset envelopes and a spike per beat (taller downbeats)."""
    times = np.asarray(analysis.frame_times_s, dtype=float)  # [N]
    keep = np.unique(np.linspace(0, len(times) - 1, num=min(max_points, len(times))).round().astype(int))
    rows: list[tuple[float, float, str]] = []
    for name, curve in ((T.CURVE_ENERGY, analysis.rms), (T.CURVE_ONSETS, analysis.onset_strength)):
        values = np.asarray(curve, dtype=float)[keep]  # [<= max_points]
        rows += [(float(t), float(v), name) for t, v in zip(times[keep], values)]
    downbeats = np.asarray(analysis.downbeats_s, dtype=float)
    eps = 0.01  # s: half-width of a beat spike
    spikes = [(0.0, 0.0)]
    for beat in np.asarray(analysis.beats_s, dtype=float):
        height = 1.0 if downbeats.size and np.abs(downbeats - beat).min() < 1e-6 else 0.6
        spikes += [(beat - eps, 0.0), (beat, height), (beat + eps, 0.0)]
    spikes.append((float(analysis.duration_s), 0.0))
    rows += [(max(0.0, t), h, T.CURVE_BEATS) for t, h in spikes]
    return pd.DataFrame(rows, columns=[T.PLOT_TIME, T.PLOT_LEVEL, T.PLOT_CURVE])


def similarity_view(similarity: dict) -> tuple[pd.DataFrame | None, str]:
    """Report's identity_similarity -> (long table frame/similarity/video or None when no frame had a face, text)."""
    rows: list[tuple[int, float, str]] = []
    parts: list[str] = []
    for name in ("baseline", "identity"):
        score = similarity.get(name)
        if not score:
            continue
        if score.get("mean") is None:
            parts.append(T.SIMILARITY_NO_FACE_PART.format(name=name))
            continue
        rows += [(int(i), float(s), name) for i, s in zip(score["frame_index"], score["similarity"]) if s is not None]
        parts.append(T.SIMILARITY_PART.format(name=name, mean=score["mean"], found=score.get("face_found", 0.0)))
    if not rows:
        return None, T.NO_FACE_IN_GENERATED
    table = pd.DataFrame(rows, columns=[T.SIMILARITY_FRAME, T.SIMILARITY_VALUE, T.SIMILARITY_VIDEO])
    return table, T.SIMILARITY_MEANS.format(parts="; ".join(parts))


def _notices(lines) -> str:
    return "\n".join(f"- {T.NOTICE.format(text=line)}" for line in lines)


# ----------------------------------------------------------------------------------------------- handlers


class DanceApp:
    """The handlers of the page, callable directly (tests) or through Gradio events and the API."""

    def __init__(self, studio: DanceStudio, config: UIConfig = UIConfig()):
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
                 fps=8.0, width=None, height=None, framing=None) -> GenerationSettings:
        """Control values (numbers, strings or None) -> GenerationSettings; the studio checks the ranges."""
        defaults = GenerationSettings()
        preset = self.studio.preset
        size = (_integer(width, T.WIDTH_LABEL, preset.size[0]), _integer(height, T.HEIGHT_LABEL, preset.size[1]))
        return GenerationSettings(
            alpha=_number(alpha, T.ALPHA_LABEL, defaults.alpha),
            id_tokens=_integer(id_tokens, T.TOKENS_LABEL),
            seed=_integer(seed, T.SEED_LABEL, defaults.seed),
            steps=_integer(steps, T.STEPS_LABEL),
            guidance=_number(guidance, T.GUIDANCE_LABEL),
            fps=_number(fps, T.FPS_LABEL, defaults.fps),
            size=size,
            music_offset_s=_number(offset, T.OFFSET_LABEL, 0.0),
            seconds=_number(length, T.LENGTH_LABEL, self.default_seconds()),
            framing=defaults.framing if framing in (None, "") else str(framing),
        )

    # ---- previews

    def face_preview(self, photo):
        """Photo -> (preview image with the used face boxed, message). No face: no image and the reason."""
        source = upload_source(photo)
        if source is None:
            return None, T.FACE_HINT
        with _user_errors("face preview"):
            try:
                face = self.studio.analyse_face(source)
            except NoFaceError as exc:
                return None, T.NO_FACE.format(message=_sentence(exc))
        return face.preview, T.FACE_NOTES.format(notes=" · ".join(_capital(n) for n in face.notes))

    def music_summary(self, music, offset=0.0, length=None):
        """Music -> (summary text with tempo, beats and notices, beat/energy plot update)."""
        path = upload_source(music)
        if not isinstance(path, str):
            return T.MUSIC_HINT, gr.update(value=None, visible=False)
        offset_s = _number(offset, T.OFFSET_LABEL, 0.0)
        seconds = _number(length, T.LENGTH_LABEL, self.default_seconds())
        with _user_errors("music summary"):
            analysis = self.studio.analyse_music(path, offset_s, seconds)
        text = T.MUSIC_SUMMARY.format(tempo=analysis.tempo_bpm, beats=len(analysis.beats_s),
                                      bars=len(analysis.downbeats_s), per_bar=analysis.beats_per_bar,
                                      duration=analysis.duration_s, offset=analysis.offset_s)
        if analysis.notices:
            text += "\n\n" + _notices(analysis.notices)
        return text, gr.update(value=music_plot_table(analysis), visible=True)

    def skeleton_preview(self, photo, music, offset=0.0, length=None, fps=8.0, seed=None, width=None, height=None,
                         framing=None):
        """Photo + music -> (skeleton mp4 with the music, message). Missing or unusable input: no video, the reason.

        Face and music problems are reported inline (the face and music previews already raised them)."""
        path, source = upload_source(music), upload_source(photo)
        if not isinstance(path, str):
            return None, T.SKELETON_NEEDS_MUSIC
        if source is None:
            return None, T.SKELETON_NEEDS_PHOTO
        settings = self.settings(offset=offset, length=length, fps=fps, seed=seed, width=width, height=height,
                                 framing=framing)
        with _user_errors("skeleton preview"):
            try:
                video_path = self.studio.skeleton_preview(source, path, settings)
            except (FaceError, MusicError) as exc:
                return None, T.SKELETON_FAILED.format(message=_sentence(exc))
        return str(video_path), T.SKELETON_READY

    # ---- generation

    def gpu_seconds(self, photo, music, settings: GenerationSettings, session: str = "local") -> int:
        """ZeroGPU time request for one run, from its frames x steps and size (a generous estimate)."""
        seconds = settings.seconds if settings.seconds is not None else self.max_music_s
        frames = max(1, round(min(seconds, self.max_music_s) * settings.fps))
        steps = settings.steps or self.studio.preset.steps
        width, height = settings.size or self.studio.preset.size
        scale = width * height / (512 * 512)
        cfg = self.config
        estimate = cfg.gpu_s_base + frames * steps * scale * cfg.gpu_s_per_frame_step + frames * cfg.gpu_s_per_frame
        return int(min(cfg.gpu_s_max, math.ceil(estimate)))

    def run_generation(self, photo, music, settings: GenerationSettings,
                       session: str = "local") -> Iterator[tuple]:
        """Run studio.generate in a worker thread; yield ("progress", step, total) ..., then ("result", result).

        A generator with picklable arguments and items, so the same code runs in-process and inside ZeroGPU's
        forked GPU worker (where the session's stop flag is not visible and a run ends on its own).
        """
        events: queue.Queue = queue.Queue()
        flag = self.stops.peek(session)
        abandoned = threading.Event()  # the consumer went away (generator closed): stop at the next step

        def should_stop() -> bool:
            return abandoned.is_set() or (flag is not None and flag.is_set())

        def work() -> None:
            try:
                result = self.studio.generate(photo, music, settings,
                                              progress=lambda step, total: events.put(("progress", step, total)),
                                              should_stop=should_stop)
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

    def generate(self, photo, music, offset=0.0, length=None, alpha=1.0, id_tokens=None, seed=None, steps=None,
                 guidance=None, fps=8.0, width=None, height=None, framing=None, request: gr.Request | None = None,
                 progress: gr.Progress = gr.Progress()):
        """Photo + music + settings -> (baseline mp4, identity mp4, side-by-side mp4, similarity plot update,
        similarity text, notes). Bad input raises gr.Error; a Stop press returns empty results and says so."""
        source, path = upload_source(photo), upload_source(music)
        if source is None:
            raise gr.Error(T.NO_PHOTO, print_exception=False)
        if not isinstance(path, str):
            raise gr.Error(T.NO_MUSIC, print_exception=False)
        settings = self.settings(offset, length, alpha, id_tokens, seed, steps, guidance, fps, width, height, framing)
        key = session_key(request)
        flag = self.stops.current(key)
        start = time.perf_counter()
        try:
            if flag.is_set():
                raise GenerationCancelled("stopped before it started")
            progress(0.0, desc=T.PROGRESS_PREPARING)
            with _user_errors("generation"):
                for item in self._run(source, path, settings, key):
                    if item[0] == "result":
                        return self._result_outputs(item[1], time.perf_counter() - start)
                    step, total = item[1], item[2]
                    progress((step, total), desc=T.PROGRESS_DENOISING, unit="steps")
                    if step >= total:
                        progress(1.0, desc=T.PROGRESS_WRITING)
                raise RuntimeError("the generator ended without a result")
        except GenerationCancelled:
            return None, None, None, gr.update(value=None, visible=False), "", T.STATUS_STOPPED
        finally:
            self.stops.release(key, flag)

    def _result_outputs(self, result: GenerationResult, elapsed_s: float):
        report = result.report
        table, similarity_text = similarity_view(report.get("identity_similarity") or {})
        plot = gr.update(value=table, visible=table is not None)
        summary = T.RESULT_SUMMARY.format(frames=report["frames"], seconds=report["seconds"], fps=report["fps"],
                                          width=report["width"], height=report["height"], steps=report["steps"],
                                          total=elapsed_s)
        notes = summary + ("\n\n" + _notices(result.warnings) if result.warnings else "")
        videos = result.videos

        def path(name: str) -> str | None:
            return str(videos[name]) if name in videos else None

        return path("baseline"), path("identity"), path("side_by_side"), plot, similarity_text, notes

    # ---- run control (buttons)

    def arm(self, request: gr.Request | None = None):
        """Generate was clicked: a fresh stop flag for this session; Generate off and Stop on while it runs."""
        self.stops.arm(session_key(request))
        return gr.update(interactive=False), gr.update(interactive=True), T.STATUS_QUEUED

    def finish(self, request: gr.Request | None = None):
        """The run ended (done, failed or stopped): drop the session's flag; Generate on, Stop off."""
        self.stops.discard(session_key(request))
        return gr.update(interactive=True), gr.update(interactive=False), T.STATUS_READY

    def stop(self, request: gr.Request | None = None) -> str:
        """Stop this session's run between two denoising steps (or before it starts, if it is still queued)."""
        return T.STATUS_STOPPING if self.stops.stop(session_key(request)) else T.STATUS_NOTHING_TO_STOP


# ------------------------------------------------------------------------------------------------ layout


def _examples_dir(config: UIConfig) -> Path:
    return Path(config.examples_dir) if config.examples_dir is not None else ASSETS_DIR


def build_ui(studio: DanceStudio, config: UIConfig = UIConfig()) -> gr.Blocks:
    """The page, wired to a :class:`DanceApp` around ``studio``, with its queue configured. Launch it with
    ``demo.launch(**launch_kwargs(studio, config), ...)``."""
    app = DanceApp(studio, config)
    preset = studio.preset
    size_limit = config.max_file_size.upper().replace("MB", " MB").replace("KB", " KB").replace("GB", " GB")
    preview = dict(concurrency_limit=config.preview_concurrency, concurrency_id="preview")

    with gr.Blocks(title=T.TITLE) as demo:
        gr.Markdown(f"# {T.TITLE}\n{T.INTRO}")
        gr.Markdown(studio.banner(), elem_id="banner")

        with gr.Row(equal_height=False):
            with gr.Column(min_width=300):
                photo = gr.Image(label=T.PHOTO_LABEL.format(max_file_size=size_limit), type="filepath",
                                 image_mode=None, sources=["upload", "webcam", "clipboard"], height=320,
                                 elem_id="photo")
                face_image = gr.Image(label=T.FACE_PREVIEW_LABEL, interactive=False, height=260, elem_id="face")
                face_text = gr.Markdown(T.FACE_HINT, label=T.FACE_TEXT_LABEL, elem_id="face-text")

            with gr.Column(min_width=300):
                music = gr.Audio(label=T.MUSIC_LABEL.format(max_file_size=size_limit), type="filepath",
                                 sources=["upload"], elem_id="music")
                with gr.Row():
                    offset = gr.Number(0.0, label=T.OFFSET_LABEL, minimum=0, step=0.5, min_width=120)
                    length = gr.Slider(MIN_MUSIC_S, app.max_music_s, value=app.default_seconds(), step=0.5,
                                       label=T.LENGTH_LABEL, info=T.LENGTH_INFO.format(max_s=app.max_music_s),
                                       min_width=160)
                music_text = gr.Markdown(T.MUSIC_HINT, label=T.MUSIC_TEXT_LABEL, elem_id="music-text")
                music_plot = gr.LinePlot(x=T.PLOT_TIME, y=T.PLOT_LEVEL, color=T.PLOT_CURVE, label=T.MUSIC_PLOT_LABEL,
                                         color_map=MUSIC_COLORS, colors_in_legend=[], height=220, visible=False,
                                         elem_id="music-plot")
                skeleton = gr.Video(label=T.SKELETON_LABEL, interactive=False, height=260, elem_id="skeleton")
                skeleton_text = gr.Markdown(T.SKELETON_NEEDS_MUSIC, label=T.SKELETON_TEXT_LABEL,
                                            elem_id="skeleton-text")

            with gr.Column(min_width=300):
                alpha = gr.Slider(0.0, 2.0, value=1.0, step=0.05, label=T.ALPHA_LABEL, info=T.ALPHA_INFO)
                id_tokens = gr.Slider(1, studio.num_id_tokens, value=studio.num_id_tokens, step=1,
                                      label=T.TOKENS_LABEL, info=T.TOKENS_INFO.format(count=studio.num_id_tokens))
                seed = gr.Number(GenerationSettings().seed, label=T.SEED_LABEL, info=T.SEED_INFO, precision=0)
                framing = gr.Radio(list(T.FRAMING_CHOICES), value=GenerationSettings().framing,
                                   label=T.FRAMING_LABEL, info=T.FRAMING_INFO, elem_id="framing")
                with gr.Accordion(T.ADVANCED_LABEL, open=False):
                    steps = gr.Slider(1, 100, value=preset.steps, step=1, label=T.STEPS_LABEL, elem_id="steps")
                    guidance = gr.Slider(1.0, 20.0, value=preset.guidance, step=0.5, label=T.GUIDANCE_LABEL)
                    fps = gr.Slider(1, 30, value=GenerationSettings().fps, step=1, label=T.FPS_LABEL, elem_id="fps")
                    with gr.Row():
                        width = gr.Slider(64, 1024, value=preset.size[0], step=64, label=T.WIDTH_LABEL,
                                          info=T.SIZE_INFO, min_width=120)
                        height = gr.Slider(64, 1024, value=preset.size[1], step=64, label=T.HEIGHT_LABEL,
                                           info=T.SIZE_INFO, min_width=120)
                with gr.Row(elem_id="generate-row"):
                    generate = gr.Button(T.GENERATE_BUTTON, variant="primary", elem_id="generate")
                    stop = gr.Button(T.STOP_BUTTON, variant="stop", interactive=False, elem_id="stop")
                status = gr.Markdown(T.STATUS_READY, label=T.STATUS_LABEL, elem_id="status")

        examples = _examples_dir(config)
        if (examples / EXAMPLE_PHOTO).is_file() and (examples / EXAMPLE_MUSIC).is_file():
            gr.Examples([[str(examples / EXAMPLE_PHOTO), str(examples / EXAMPLE_MUSIC)]], inputs=[photo, music],
                        label=T.EXAMPLES_LABEL, cache_examples=False)

        with gr.Row(equal_height=False):
            baseline = gr.Video(label=T.BASELINE_LABEL, interactive=False, height=360, min_width=280,
                                elem_id="baseline")
            identity = gr.Video(label=T.IDENTITY_LABEL, interactive=False, height=360, min_width=280,
                                elem_id="identity")
        with gr.Row(equal_height=False):
            with gr.Column(min_width=280):
                download = gr.File(label=T.DOWNLOAD_LABEL, interactive=False, elem_id="download")
                notes = gr.Markdown(label=T.NOTES_LABEL, elem_id="notes")
            with gr.Column(min_width=280):
                similarity_plot = gr.LinePlot(x=T.SIMILARITY_FRAME, y=T.SIMILARITY_VALUE, color=T.SIMILARITY_VIDEO,
                                              label=T.SIMILARITY_LABEL, color_map=SIMILARITY_COLORS,
                                              colors_in_legend=[], height=220, visible=False,
                                              elem_id="similarity-plot")
                similarity_text = gr.Markdown(label=T.SIMILARITY_TEXT_LABEL, elem_id="similarity-text")

        # ---- events: previews are quick and share a small limit; generation has its own queue slot(s)
        skeleton_inputs = [photo, music, offset, length, fps, seed, width, height, framing]
        skeleton_outputs = [skeleton, skeleton_text]
        music_inputs, music_outputs = [music, offset, length], [music_text, music_plot]

        # (public endpoints first: a private event registered earlier would take the function's API name)
        music.change(app.music_summary, music_inputs, music_outputs, api_name="music_summary", preprocess=False,
                     trigger_mode="always_last", **preview).success(
            app.skeleton_preview, skeleton_inputs, skeleton_outputs, api_name="skeleton_preview", preprocess=False,
            **preview)
        photo.change(app.face_preview, [photo], [face_image, face_text], api_name="face_preview", preprocess=False,
                     trigger_mode="always_last", **preview).then(
            app.skeleton_preview, skeleton_inputs, skeleton_outputs, api_visibility="private", preprocess=False,
            **preview)
        for trigger in (offset.submit, offset.blur, length.release):
            trigger(app.music_summary, music_inputs, music_outputs, api_visibility="private", preprocess=False,
                    trigger_mode="always_last", **preview).success(
                app.skeleton_preview, skeleton_inputs, skeleton_outputs, api_visibility="private",
                preprocess=False, **preview)
        for trigger in (seed.submit, seed.blur, fps.release, width.release, height.release, framing.input):
            trigger(app.skeleton_preview, skeleton_inputs, skeleton_outputs, api_visibility="private",
                    preprocess=False, trigger_mode="always_last", **preview)

        buttons = [generate, stop, status]
        generate.click(app.arm, None, buttons, queue=False, api_visibility="private").then(
            app.generate,
            [photo, music, offset, length, alpha, id_tokens, seed, steps, guidance, fps, width, height, framing],
            [baseline, identity, download, similarity_plot, similarity_text, notes], api_name="generate",
            preprocess=False, concurrency_limit=config.concurrency, concurrency_id="generate").then(
            app.finish, None, buttons, queue=False, api_visibility="private")
        stop.click(app.stop, None, status, queue=False, api_name="stop")

    demo.queue(default_concurrency_limit=config.concurrency, max_size=config.max_queue)
    return demo


def launch_kwargs(studio: DanceStudio, config: UIConfig = UIConfig()) -> dict:
    """Options for ``demo.launch`` (Gradio 6 takes the theme and css there): look, upload limit, served folders."""
    allowed = [str(studio.outputs.path()), str(_examples_dir(config))]
    return dict(theme=gr.themes.Soft(), css=CSS, max_file_size=config.max_file_size, allowed_paths=allowed,
                show_error=False)


def start_warm_up() -> threading.Thread:
    """Compile the beat tracker (numba, ~25 s cold) once in a background thread, off the request path."""

    def warm() -> None:
        try:
            logger.info("beat tracker warmed up in %.1f s", music_mod.warm_up())
        except Exception:  # a failed warm-up only means the first music upload is slower
            logger.warning("beat tracker warm-up failed; the first music analysis will be slower", exc_info=True)

    thread = threading.Thread(target=warm, name="dancegen-warm-up", daemon=True)
    thread.start()
    return thread
