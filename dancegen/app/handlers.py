"""What the page's events do (:class:`DanceApp`), callable directly (tests), through Gradio events and the API.

Every handler takes the values of the page's controls by name (a dict: :mod:`.controls` declares them and binds
the handlers to the page) and returns its outputs by name (a dict; an output left out stays as it was on the page).
The handlers talk only to :class:`dancegen.studio.DanceStudio`, created once and shared by every request.
Previews (face crop, music summary, skeleton video) are quick events; generation runs in Gradio's queue with a
progress bar over the denoising steps and a Stop button that ends the run between two steps.

Errors reach the page by kind (:mod:`dancegen.errors`): a :class:`UserError` is shown as the user's problem, in
their words; a resource limit says what to try; anything else is logged with its traceback and shown as ours, with
the id it was logged under. All the text a person reads lives in :mod:`.text`.

On a Hugging Face Space with the ``spaces`` package, generation runs inside ``spaces.GPU`` (ZeroGPU) with a GPU
time request sized from the request (:mod:`.gpu_time`); elsewhere the same code runs unchanged.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import logging
import os
import queue
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import gradio as gr

from ..config import GenerationSettings, ServeConfig, check_seconds
from ..dance import MotionError
from ..errors import (GenerationCancelled, MusicError, NoFaceError, PhotoError, ResourceLimit, UserError,
                      report_internal)
from ..studio import DanceStudio, GenerationResult
from . import text as T
from .controls import read_settings, upload_source
from .motion import MotionFiles, music_of, sound_path, source_view, summary
from .gpu_time import MIN_MUSIC_S, gpu_request, quota_refusal
from .plots import music_plot_table, similarity_view
from .stops import StopSwitch
from .words import capital, clock, notices, reported, sentence

logger = logging.getLogger(__name__)

Values = Mapping[str, Any]  # control name -> raw value (see .controls)
RESULTS = ("baseline", "identity", "download", "similarity_plot", "similarity_text", "notes")  # the API's outputs


def _no_results() -> dict:
    """The cleared result outputs (fresh updates each time: Gradio consumes the update dicts it is given)."""
    return dict(baseline=None, identity=None, download=None, similarity_plot=gr.update(value=None, visible=False),
                similarity_text="", dance=None)


def _ready_buttons() -> dict:
    """Generate on, Stop off."""
    return dict(generate=gr.update(interactive=True), stop=gr.update(interactive=False))


def session_key(request: gr.Request | None) -> str:
    """Whose run a Stop press belongs to: the browser tab's (or API client's) session."""
    return getattr(request, "session_hash", None) or "local"


def on_space() -> bool:
    """True on a Hugging Face Space whose image has the `spaces` package (ZeroGPU's decorator)."""
    return bool(os.environ.get("SPACE_ID")) and importlib.util.find_spec("spaces") is not None


class DanceApp:
    """The handlers of the page, callable directly (tests) or through Gradio events and the API."""

    def __init__(self, studio: DanceStudio, config: ServeConfig = ServeConfig()):
        self.studio = studio
        self.config = config
        self.stops = StopSwitch()
        self.motions = MotionFiles(studio.dance)  # motion uploads, read once per file and rate
        self.zero_gpu = on_space() if config.zero_gpu is None else config.zero_gpu
        self.space = bool(os.environ.get("SPACE_ID")) if config.space is None else config.space
        self._run = self.run_generation
        if self.zero_gpu:
            spaces = importlib.import_module("spaces")
            self._run = spaces.GPU(duration=self.gpu_seconds)(self.run_generation)

    # ---- settings

    @property
    def max_music_s(self) -> float:
        return float(self.studio.config.max_music_s)

    def default_seconds(self) -> float:
        """The preselected dance length (shorter on a Space), within the music stage's range."""
        seconds = self.config.space_seconds if self.space else self.config.default_seconds
        return max(MIN_MUSIC_S, min(seconds, self.max_music_s))

    def defaults(self) -> dict[str, Any]:
        """What a control left empty asks for, beyond GenerationSettings' own defaults: the preselected length,
        and on a Space its fewer denoising steps (field -> value)."""
        fields: dict[str, Any] = {"seconds": self.default_seconds()}
        if self.space and self.config.space_steps is not None:
            fields["steps"] = self.config.space_steps
        return fields

    def page_defaults(self) -> GenerationSettings:
        """The settings the page preselects (the model's steps and guidance filled in)."""
        preset, fields = self.studio.preset, self.defaults()
        return GenerationSettings(**{"steps": preset.steps, "guidance": preset.guidance, **fields})

    def settings(self, values: Values | None = None) -> GenerationSettings:
        """Control values by name (numbers, strings or None) -> GenerationSettings, which checks the ranges
        (gr.Error)."""
        with reported("settings"):
            return self._settings(values or {})

    def _settings(self, values: Values) -> GenerationSettings:
        """Control values -> GenerationSettings (SettingsError for a value that is not a number or out of range)."""
        return read_settings(values, self.defaults())

    def banner(self) -> str:
        """The line above the page: on a Space what it runs and what a visitor will see, else the studio's own
        banner (for whoever runs it)."""
        if not self.space:
            return self.studio.banner()
        d = self.studio.describe()
        where = d["gpu"] or ("ZeroGPU" if self.zero_gpu else "the CPU")
        template = T.SPACE_TRAINED if self.studio.preset.trained else T.SPACE_UNTRAINED
        text = template.format(label=d["label"], preset=d["preset"], where=where)
        return text + (T.SPACE_GPU if self.zero_gpu else "")

    # ---- previews

    def face_preview(self, values: Values, request: gr.Request | None = None) -> dict:
        """Photo (and the size, when one is chosen) -> face_image: the photo as the video frames it, with the used
        face boxed and its aligned crop beside it; face_text: what was found. No face: no image and the reason."""
        source = upload_source(values.get("photo"))
        if source is None:
            return dict(face_image=None, face_text=T.FACE_HINT)
        with reported("face preview"):
            settings = self._settings(values)
            try:
                preview, face, crop = self.studio.face_preview(source, settings)
            except NoFaceError as exc:
                return dict(face_image=None, face_text=T.NO_FACE.format(message=sentence(exc)))
        notes = " · ".join(capital(n) for n in (*face.notes, *crop.notices()))
        return dict(face_image=preview,
                    face_text=T.FACE_NOTES.format(notes=notes, width=crop.canvas[0], height=crop.canvas[1]))

    def face_preview_page(self, values: Values, request: gr.Request | None = None) -> dict:
        """The page's face preview: like :meth:`face_preview`, with an unusable photo's reason shown beside it."""
        try:
            with reported("face preview"):
                return self.face_preview(values)
        except gr.Error as exc:
            return dict(face_image=None, face_text=T.NO_FACE.format(message=exc.message))

    def music_summary(self, values: Values, request: gr.Request | None = None) -> dict:
        """Music -> music_text: tempo, beats and notices; music_plot: the beat/energy plot's update. Without music,
        a motion upload that is a video is summarised: its sound is then the music."""
        path = sound_path(values)
        if path is None:
            return dict(music_text=T.MUSIC_HINT, music_plot=gr.update(value=None, visible=False))
        with reported("music summary"):
            settings = self._settings(values)
            check_seconds(settings, self.max_music_s)  # the slider's range, for the API too
            analysis = self.studio.analyse_music(path, settings.music_offset_s, settings.seconds)
        text = ("" if path == upload_source(values.get("music")) else T.MUSIC_FROM_VIDEO) + T.MUSIC_SUMMARY.format(tempo=analysis.tempo_bpm, beats=len(analysis.beats_s),
                                      bars=len(analysis.downbeats_s), per_bar=analysis.beats_per_bar,
                                      duration=analysis.duration_s, offset=analysis.offset_s)
        total = analysis.source_duration_s
        if total is not None and total > analysis.duration_s + 0.5:
            text += "\n\n" + T.MUSIC_USED.format(used=clock(analysis.duration_s), total=clock(total),
                                                  start=clock(analysis.offset_s))
        if analysis.notices:
            text += "\n\n" + notices(analysis.notices)
        return dict(music_text=text, music_plot=gr.update(value=music_plot_table(analysis), visible=True))

    def music_summary_page(self, values: Values, request: gr.Request | None = None) -> dict:
        """The page's music summary: like :meth:`music_summary`, with unusable music's reason shown in its place."""
        try:
            return self.music_summary(values)
        except gr.Error as exc:
            return dict(music_text=T.MUSIC_PROBLEM.format(message=exc.message),
                        music_plot=gr.update(value=None, visible=False))

    def motion_summary_page(self, values: Values, request: gr.Request | None = None) -> dict:
        """motion_text: what the motion upload holds (frames, rate, who is followed), or why it cannot be used."""
        try:
            clip = self.motions.clip(values)
        except UserError as exc:
            return dict(motion_text=T.MOTION_PROBLEM.format(message=sentence(exc)))
        except Exception as exc:
            return dict(motion_text=T.MOTION_PROBLEM.format(message=capital(report_internal(logger, "motion", exc))))
        return dict(motion_text=T.MOTION_HINT if clip is None else summary(clip))

    def skeleton_preview(self, values: Values, request: gr.Request | None = None) -> dict:
        """Photo + music (or a motion video's sound) -> skeleton: an mp4 of the dance with the music;
        skeleton_text: what it is; motion_source: with a motion upload, its source skeleton beside the fitted one
        (motion_source.mp4). Missing or unusable input: no video, the reason (the face, music and motion previews
        already raised them)."""
        source, hidden = upload_source(values.get("photo")), source_view(None)
        if sound_path(values) is None and upload_source(values.get("motion")) is None:
            return dict(skeleton=None, skeleton_text=T.SKELETON_NEEDS_MUSIC, motion_source=hidden)
        if source is None:
            return dict(skeleton=None, skeleton_text=T.SKELETON_NEEDS_PHOTO, motion_source=hidden)
        settings = self.settings(values)
        with reported("skeleton preview"):
            try:
                clip = self.motions.clip(values)
                path = music_of(values, clip)
                if clip is None:
                    video_path = self.studio.skeleton_preview(source, path, settings)
                else:  # the dance's files, motion_source.mp4 among them
                    planned = self.studio.plan_dance(source, path, settings, motion=clip)
                    files = self.studio.write_dance(planned, self.studio.outputs.create())
                    return dict(skeleton=str(files["skeleton"]), skeleton_text=T.SKELETON_MOTION,
                                motion_source=source_view(files["motion_source"]))
            except (PhotoError, MusicError, MotionError) as exc:
                return dict(skeleton=None, skeleton_text=T.SKELETON_FAILED.format(message=sentence(exc)),
                            motion_source=hidden)
        return dict(skeleton=str(video_path), skeleton_text=T.SKELETON_READY, motion_source=hidden)

    # ---- generation

    def gpu_seconds(self, photo, music, settings: GenerationSettings, session: str = "local", plan=None,
                    motion=None) -> int:
        """ZeroGPU time request for one run (the arguments of :meth:`run_generation`): see :mod:`.gpu_time`."""
        sound = music if music is not None or motion is None else str(motion.path)  # a video's own sound
        return gpu_request(self.studio, self.config, photo, sound, settings).seconds

    def run_generation(self, photo, music, settings: GenerationSettings, session: str = "local",
                       plan=None, motion=None) -> Iterator[tuple]:
        """Run studio.generate in a worker thread (dancing ``plan``, a DancePlan, when given; ``motion``, a
        MotionClip, instead of planned moves, its video's sound the music when ``music`` is None); yield
        ("progress", Progress) ..., then ("result", result).

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
                                              should_stop=should_stop, plan=plan, motion=motion)
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

    def _generate(self, values: Values, request: gr.Request | None, progress) -> dict:
        """Run one generation for this session -> the result outputs by name. Dances ``values["plan"]`` (the
        choreography panel's DancePlan) when there is one, else plans one in the style chosen. Raises what went
        wrong as it is (UserError, ResourceLimit, GenerationCancelled, or one of our bugs); the callers decide how to
        show it."""
        key = session_key(request)
        flag = self.stops.begin(key)  # armed by the Generate click (or made now for an API call)
        start = time.perf_counter()
        try:  # whatever happens, the session's flag goes with this run
            source, clip = upload_source(values.get("photo")), self.motions.clip(values)
            if source is None:
                raise PhotoError(T.NO_PHOTO)
            path = music_of(values, clip)
            settings, plan = self._settings(values), values.get("plan")
            if flag.is_set():
                raise GenerationCancelled("stopped before it started")
            progress(0.0, desc=T.PROGRESS_PREPARING)
            try:
                for item in self._run(source, path, settings, key, plan, clip):
                    if item[0] == "result":
                        return self._result_outputs(item[1], time.perf_counter() - start)
                    p = item[1]
                    progress(p.fraction, desc=T.PROGRESS.format(stage=T.STAGES[p.stage], detail=p.detail,
                                                                elapsed=clock(p.elapsed_s),
                                                                remaining=clock(p.remaining_s)))
            except gr.Error as exc:  # ZeroGPU's refusal of the time asked: what to shorten
                refusal = quota_refusal(exc, gpu_request(self.studio, self.config, source, sound_path(values),
                                                         settings))
                if refusal is None:
                    raise
                raise refusal from None
            raise RuntimeError("the generator ended without a result")
        finally:
            self.stops.release(key, flag)

    def generate(self, values: Values, request: gr.Request | None = None, progress=gr.Progress()) -> dict:
        """The API's generation: photo + music + settings -> baseline, identity and side-by-side (download) mp4s,
        the similarity plot's update and text, the notes. What goes wrong is raised as gr.Error with its message (a
        script gets an exception); a Stop press returns empty results and says so."""
        try:
            with reported("generation"):
                return self._generate(values, request, progress)
        except GenerationCancelled:
            return {**_no_results(), "notes": T.STATUS_STOPPED}

    def generate_page(self, values: Values, request: gr.Request | None = None, progress=gr.Progress()) -> dict:
        """The page's generation: the results, then the Generate and Stop buttons, the status line and the face
        and music messages. Whatever happens (done, bad input, out of memory, Stop, our bug) the results, buttons
        and status are set, so the page is ready for the next try; the message stays in the status line, and beside
        the photo, the music or the motion when it is about one of them, until the next action."""
        failed = {**_no_results(), "notes": "", **_ready_buttons()}
        try:
            results = self._generate(values, request, progress)
        except GenerationCancelled:
            return {**failed, "notes": T.STATUS_STOPPED, "status": T.STATUS_STOPPED}
        except PhotoError as exc:
            message = sentence(exc)
            return {**failed, "status": T.STATUS_FAILED.format(message=message),
                    "face_text": T.NO_FACE.format(message=message)}
        except MusicError as exc:
            message = sentence(exc)
            return {**failed, "status": T.STATUS_FAILED.format(message=message),
                    "music_text": T.MUSIC_PROBLEM.format(message=message)}
        except MotionError as exc:
            message = sentence(exc)
            return {**failed, "status": T.STATUS_FAILED.format(message=message),
                    "motion_text": T.MOTION_PROBLEM.format(message=message)}
        except (UserError, ResourceLimit, gr.Error) as exc:
            if isinstance(exc, ResourceLimit):
                logger.warning("generation: %s", exc)
            return {**failed, "status": T.STATUS_FAILED.format(message=sentence(exc))}
        except Exception as exc:
            message = capital(report_internal(logger, "generation", exc)) + "."
            return {**failed, "status": T.STATUS_FAILED.format(message=message)}
        return {**results, **_ready_buttons(), "status": T.STATUS_DONE.format(notes_hint=T.STATUS_DONE_HINT)}

    def _result_outputs(self, result: GenerationResult, elapsed_s: float) -> dict:
        report = result.report
        table, similarity_text = similarity_view(report.get("metrics") or {})
        summary = T.RESULT_SUMMARY.format(frames=report["frames"], seconds=report["seconds"], fps=report["fps"],
                                          output_fps=report["output_fps"],
                                          width=report["width"], height=report["height"], steps=report["steps"],
                                          total=elapsed_s)
        videos = result.videos

        def path(name: str) -> str | None:
            return str(videos[name]) if name in videos else None

        return dict(baseline=path("baseline"), identity=path("identity"), download=path("side_by_side"),
                    similarity_plot=gr.update(value=table, visible=table is not None),
                    similarity_text=similarity_text,
                    notes=summary + ("\n\n" + notices(result.warnings) if result.warnings else ""),
                    dance=path("skeleton"))

    # ---- time estimate

    def estimate(self, values: Values, request: gr.Request | None = None) -> dict:
        """estimate: how long Generate will take with these settings (and this photo's canvas), from this machine's
        measured rates; on ZeroGPU also the GPU time the run asks for. Empty for a value that cannot be read."""
        try:
            settings = self._settings(values)
        except UserError:
            return dict(estimate="")
        photo, path = upload_source(values.get("photo")), sound_path(values)
        photo_size = None
        if photo is not None:
            with contextlib.suppress(UserError):
                photo_size = self.studio.photo_size(photo)
        seconds = settings.seconds or self.default_seconds()
        if isinstance(path, str):  # the music may end before the chosen length
            try:
                seconds = self.studio.analyse_music(path, settings.music_offset_s, settings.seconds).duration_s
            except UserError:
                return dict(estimate="")
        frames = max(1, round(seconds * settings.fps))
        total = sum(self.studio.estimate(settings, seconds, photo_size).values())
        text = T.ESTIMATE.format(time=clock(total), frames=frames, steps=settings.steps or self.studio.preset.steps,
                                 measured=T.ESTIMATE_MEASURED if self.studio.timer.runs else T.ESTIMATE_CALIBRATED)
        if self.zero_gpu:
            text += T.ESTIMATE_GPU.format(gpu=gpu_request(self.studio, self.config, photo, path, settings).seconds)
        return dict(estimate=text)

    # ---- run control (buttons) and the status line

    def arm(self, request: gr.Request | None = None) -> dict:
        """Generate was clicked: a fresh stop flag for this session; Generate off and Stop on while it runs."""
        self.stops.arm(session_key(request))
        return dict(generate=gr.update(interactive=False), stop=gr.update(interactive=True), status=T.STATUS_QUEUED)

    def stop(self, request: gr.Request | None = None) -> str:
        """Stop this session's run between two denoising windows (or before it starts, if it is still queued)."""
        key = session_key(request)
        if not self.stops.stop(key):
            return T.STATUS_NOTHING_TO_STOP
        return T.STATUS_STOPPING if self.stops.running(key) else T.STATUS_STOPPED  # not begun: stopped now

    def buttons_after_stop(self, request: gr.Request | None = None) -> dict:
        """After a Stop press with no run going (none armed, or one armed whose handler never started: still queued,
        or turned away by a full queue), Generate is on and Stop off, whatever the page showed; a running run
        resets the page itself when it ends."""
        if not self.stops.running(session_key(request)):
            return _ready_buttons()
        return {}

    def idle_status(self, request: gr.Request | None = None) -> dict:
        """A new action: the status line says Ready again, unless this session's run is still going."""
        return {} if self.stops.waiting(session_key(request)) else dict(status=T.STATUS_READY)
