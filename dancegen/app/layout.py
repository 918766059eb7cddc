"""The page: inputs, previews, controls and results, wired to the handlers of :class:`DanceApp`."""

from __future__ import annotations

import contextlib
from pathlib import Path

import gradio as gr

from ..config import GenerationSettings, ServeConfig, spec
from ..dance import MOTION_FPS
from ..studio import DanceStudio
from ..study.review import served_folders
from . import text as T
from .choreography import PANEL_OUTPUTS, ChoreographyPanel, move_choices, style_choices
from .controls import AUTO, Page
from .handlers import RESULTS, DanceApp
from .motion import FILE_TYPES as MOTION_FILE_TYPES
from .plots import MUSIC_COLORS, SIMILARITY_COLORS
from .review_handlers import ReviewApp
from .review_page import review_blocks

ASSETS_DIR = Path(__file__).resolve().parent.parent.parent / "assets"  # the repository's example photo and music
EXAMPLE_PHOTO = "astronaut.png"
EXAMPLE_MUSIC = "sample_music.wav"

CSS = """
#banner { border-left: 4px solid var(--color-accent); padding: 0.4em 0.8em; background: var(--block-background-fill); }
#generate-row button { min-height: 3em; }
#plan-row button, #move-row button { min-height: 3em; }
"""




def _range(name: str) -> dict:
    """Slider bounds of a generation setting: the same range its check allows (and its step)."""
    s = spec(GenerationSettings, name)
    return dict(minimum=s.low, maximum=s.high, step=s.step)


def _sizes() -> list[tuple[str, str]]:
    """Choices of the width and height menus: the photo's shape ("auto"), then every size the setting allows."""
    s = spec(GenerationSettings, "size")
    sizes = range(int(s.low), int(s.high) + 1, int(s.step))
    return [(T.SIZE_AUTO, AUTO)] + [(str(v), str(v)) for v in sizes]


def _examples_dir(config: ServeConfig) -> Path:
    return Path(config.examples_dir) if config.examples_dir is not None else ASSETS_DIR


def build_ui(studio: DanceStudio, config: ServeConfig = ServeConfig()) -> gr.Blocks:
    """The page, wired to a :class:`DanceApp` around ``studio``, with its queue configured. Launch it with
    ``demo.launch(**launch_kwargs(studio, config), ...)``. Every component is placed under its name
    (:class:`~.controls.Page`); the events hand the handlers the controls of their stage by name."""
    app = DanceApp(studio, config)
    panel = ChoreographyPanel(app)
    defaults = app.page_defaults()  # what the controls preselect (GenerationSettings and ServeConfig)
    size_limit = config.max_file_size.upper().replace("MB", " MB").replace("KB", " KB").replace("GB", " GB")
    preview = dict(concurrency_limit=config.preview_concurrency, concurrency_id="preview")
    review = ReviewApp(config.review) if config.review else None  # a study's blind review, in a tab
    page = Page()
    add = page.add

    with gr.Blocks(title=T.TITLE) as demo:
        gr.Markdown(f"# {T.TITLE}\n{T.INTRO}")
        gr.Markdown(app.banner(), elem_id="banner")

        with gr.Tab(T.GENERATE_TAB) if review is not None else contextlib.nullcontext():
            with gr.Row(equal_height=False):
                with gr.Column(min_width=300):
                    photo = add("photo", gr.Image(label=T.PHOTO_LABEL.format(max_file_size=size_limit),
                                                  type="filepath", image_mode=None,
                                                  sources=["upload", "webcam", "clipboard"], height=320,
                                                  elem_id="photo"))
                    add("face_image", gr.Image(label=T.FACE_PREVIEW_LABEL, interactive=False, height=260,
                                               elem_id="face"))
                    add("face_text", gr.Markdown(T.FACE_HINT, label=T.FACE_TEXT_LABEL, elem_id="face-text"))

                with gr.Column(min_width=300):
                    music = add("music", gr.Audio(label=T.MUSIC_LABEL.format(max_file_size=size_limit),
                                                  type="filepath", sources=["upload"], elem_id="music"))
                    with gr.Row():
                        offset_range = _range("music_offset_s")
                        offset = add("offset", gr.Number(defaults.music_offset_s, label=T.OFFSET_LABEL,
                                                         min_width=120, minimum=offset_range["minimum"],
                                                         step=offset_range["step"]))
                        length = add("length", gr.Slider(**{**_range("seconds"), "maximum": app.max_music_s},
                                                         value=defaults.seconds, label=T.LENGTH_LABEL,
                                                         info=T.LENGTH_INFO.format(max_s=app.max_music_s),
                                                         min_width=160))
                    add("music_text", gr.Markdown(T.MUSIC_HINT, label=T.MUSIC_TEXT_LABEL, elem_id="music-text"))
                    add("music_plot", gr.LinePlot(x=T.PLOT_TIME, y=T.PLOT_LEVEL, color=T.PLOT_CURVE,
                                                  label=T.MUSIC_PLOT_LABEL, color_map=MUSIC_COLORS,
                                                  colors_in_legend=[], height=220, visible=False,
                                                  elem_id="music-plot"))
                    motion = add("motion", gr.File(label=T.MOTION_LABEL.format(max_file_size=size_limit),
                                                   file_types=MOTION_FILE_TYPES, height=120, elem_id="motion"))
                    motion_fps = add("motion_fps", gr.Number(MOTION_FPS, label=T.MOTION_FPS_LABEL,
                                                             info=T.MOTION_FPS_INFO, minimum=1, min_width=120,
                                                             elem_id="motion-fps"))
                    add("motion_text", gr.Markdown(T.MOTION_HINT, label=T.MOTION_TEXT_LABEL, elem_id="motion-text"))
                    add("skeleton", gr.Video(label=T.SKELETON_LABEL, interactive=False, height=260,
                                             elem_id="skeleton"))
                    add("skeleton_text", gr.Markdown(T.SKELETON_NEEDS_MUSIC, label=T.SKELETON_TEXT_LABEL,
                                                     elem_id="skeleton-text"))
                    add("motion_source", gr.Video(label=T.MOTION_SOURCE_LABEL, interactive=False, height=260,
                                                  visible=False, elem_id="motion-source"))

                with gr.Column(min_width=300):
                    add("alpha", gr.Slider(**_range("alpha"), value=defaults.alpha, label=T.ALPHA_LABEL,
                                           info=T.ALPHA_INFO))
                    add("id_tokens", gr.Slider(1, studio.num_id_tokens, value=studio.num_id_tokens, step=1,
                                               label=T.TOKENS_LABEL,
                                               info=T.TOKENS_INFO.format(count=studio.num_id_tokens)))
                    seed = add("seed", gr.Number(defaults.seed, label=T.SEED_LABEL, info=T.SEED_INFO, precision=0,
                                                 minimum=_range("seed")["minimum"], maximum=_range("seed")["maximum"]))
                    framing = add("framing", gr.Radio(list(T.FRAMING_CHOICES), value=str(defaults.framing),
                                                      label=T.FRAMING_LABEL, info=T.FRAMING_INFO, elem_id="framing"))
                    with gr.Accordion(T.ADVANCED_LABEL, open=False):
                        steps = add("steps", gr.Slider(**_range("steps"), value=defaults.steps, label=T.STEPS_LABEL,
                                                       elem_id="steps"))
                        add("guidance", gr.Slider(**_range("guidance"), value=defaults.guidance,
                                                  label=T.GUIDANCE_LABEL))
                        fps = add("fps", gr.Slider(**_range("fps"), value=defaults.fps, label=T.FPS_LABEL,
                                                   elem_id="fps"))
                        output_fps = add("output_fps", gr.Slider(**_range("output_fps"), value=defaults.output_fps,
                                                                 label=T.OUTPUT_FPS_LABEL, info=T.OUTPUT_FPS_INFO,
                                                                 elem_id="output-fps"))
                        with gr.Row():  # "auto": the canvas follows the photo's shape
                            width = add("width", gr.Dropdown(_sizes(), value=AUTO, label=T.WIDTH_LABEL,
                                                             info=T.SIZE_INFO, min_width=120, elem_id="width"))
                            height = add("height", gr.Dropdown(_sizes(), value=AUTO, label=T.HEIGHT_LABEL,
                                                               info=T.SIZE_INFO, min_width=120, elem_id="height"))
                    with gr.Row(elem_id="generate-row"):
                        generate = add("generate", gr.Button(T.GENERATE_BUTTON, variant="primary",
                                                             elem_id="generate"))
                        stop = add("stop", gr.Button(T.STOP_BUTTON, variant="stop", interactive=False,
                                                     elem_id="stop"))
                    add("estimate", gr.Markdown("", label=T.ESTIMATE_LABEL, elem_id="estimate"))
                    status = add("status", gr.Markdown(T.STATUS_READY, label=T.STATUS_LABEL, elem_id="status"))

            add("plan", gr.State(None))  # the plan shown (a DancePlan), per visitor
            with gr.Accordion(T.CHOREO_LABEL, open=False, elem_id="choreography"):
                gr.Markdown(T.CHOREO_INTRO)
                with gr.Row(equal_height=True, elem_id="plan-row"):
                    add("style", gr.Dropdown(style_choices(), value=AUTO, label=T.STYLE_LABEL, info=T.STYLE_INFO,
                                             min_width=200, elem_id="style"))
                    plan_button = gr.Button(T.PLAN_BUTTON, variant="primary", scale=0, min_width=200, elem_id="plan")
                table = add("table", gr.Dataframe(headers=list(T.PLAN_HEADERS),
                                                  datatype=["number", "str", "str", "str", "bool"], type="array",
                                                  interactive=True, static_columns=[0, 1, 2], wrap=True,
                                                  column_widths=["6%", "18%", "16%", "48%", "12%"],
                                                  label=T.PLAN_TABLE_LABEL, max_height=420, elem_id="phrases"))
                with gr.Row(equal_height=True, elem_id="move-row"):
                    add("move", gr.Dropdown(move_choices(), value=move_choices()[0], label=T.MOVE_LABEL,
                                            min_width=200, elem_id="move"))
                    add("phrase_number", gr.Number(1, label=T.PHRASE_LABEL, precision=0, minimum=1, min_width=120,
                                                   elem_id="phrase-number"))
                    put_move = gr.Button(T.PUT_BUTTON, scale=0, min_width=200, elem_id="put-move")
                with gr.Row(equal_height=False):
                    add("plan_file", gr.File(label=T.PLAN_FILE_LABEL, interactive=False, min_width=240,
                                             elem_id="plan-file"))
                    plan_upload = add("plan_upload", gr.File(label=T.PLAN_UPLOAD_LABEL, file_types=[".json"],
                                                             min_width=240, elem_id="plan-upload"))
                    add("plan_text", gr.Markdown(T.PLAN_HINT, label=T.PLAN_TEXT_LABEL, min_height=60,
                                                 elem_id="plan-text"))

            examples = _examples_dir(config)
            if (examples / EXAMPLE_PHOTO).is_file() and (examples / EXAMPLE_MUSIC).is_file():
                gr.Examples([[str(examples / EXAMPLE_PHOTO), str(examples / EXAMPLE_MUSIC)]], inputs=[photo, music],
                            label=T.EXAMPLES_LABEL, example_labels=[T.EXAMPLE_NAME], cache_examples=False,
                            elem_id="examples")

            with gr.Row(equal_height=False):
                add("baseline", gr.Video(label=T.BASELINE_LABEL, interactive=False, height=360, min_width=280,
                                         elem_id="baseline"))
                add("identity", gr.Video(label=T.IDENTITY_LABEL, interactive=False, height=360, min_width=280,
                                         elem_id="identity"))
                if not studio.preset.trained:  # random weights: the skeleton dance is the meaningful output
                    add("dance", gr.Video(label=T.DANCE_LABEL, interactive=False, height=360, min_width=280,
                                          elem_id="dance"))
            gr.Markdown(T.AB_CAPTION, elem_id="ab-caption")
            with gr.Row(equal_height=False):
                with gr.Column(min_width=280):
                    add("download", gr.File(label=T.DOWNLOAD_LABEL, interactive=False, elem_id="download"))
                    add("notes", gr.Markdown(label=T.NOTES_LABEL, elem_id="notes"))
                with gr.Column(min_width=280):
                    add("similarity_plot", gr.LinePlot(x=T.SIMILARITY_FRAME, y=T.SIMILARITY_VALUE,
                                                       color=T.SIMILARITY_VIDEO, label=T.SIMILARITY_LABEL,
                                                       color_map=SIMILARITY_COLORS, colors_in_legend=[], height=220,
                                                       visible=False, elem_id="similarity-plot"))
                    add("similarity_text", gr.Markdown(label=T.SIMILARITY_TEXT_LABEL, elem_id="similarity-text"))

            # ---- events. The page's own events show every message where it belongs and leave the page ready for the
            # next try; the API endpoints (gradio_client, examples/client.py) hang on hidden buttons and raise errors,
            # so a script gets an exception. Previews are quick and share a small limit; generation has its own slots.
            # Each handler gets the controls of its stage by name (controls.HANDLER_STAGES).
            face = page.event(app.face_preview_page, "face", ("face_image", "face_text"))
            music_page = page.event(app.music_summary_page, "music", ("music_text", "music_plot"))
            motion_page = page.event(app.motion_summary_page, None, ("motion_text",), extra=("motion", "motion_fps"))
            follow = page.event(panel.follow, "dance", PANEL_OUTPUTS, extra=("plan",))  # the plan shown
            estimate = page.event(app.estimate, "generate", ("estimate",))
            idle = page.event(app.idle_status, None, ("status",))
            results = [n for n in ("baseline", "identity", "dance", "download", "similarity_plot", "similarity_text",
                                   "notes") if n in page.parts]
            private = dict(api_visibility="private", preprocess=False)

            with gr.Row(visible=False):  # the API's endpoints (public endpoints first: they keep their names)
                api = {name: gr.Button(visible=False) for name in ("face", "music", "skeleton", "generate", "stop")}
            api["face"].click(**page.api(app.face_preview, "face", ("face_image", "face_text")),
                              api_name="face_preview", preprocess=False, **preview)
            api["music"].click(**page.api(app.music_summary, "music", ("music_text", "music_plot")),
                               api_name="music_summary", preprocess=False, **preview)
            api["skeleton"].click(**page.api(app.skeleton_preview, "dance", ("skeleton", "skeleton_text")),
                                  api_name="skeleton_preview", preprocess=False, **preview)
            api["generate"].click(**page.api(app.generate, "generate", RESULTS), api_name="generate",
                                  preprocess=False, concurrency_limit=config.concurrency, concurrency_id="generate")
            api["stop"].click(app.stop, None, status, queue=False, api_name="stop")

            def then_estimate(event) -> None:
                event.then(**estimate, queue=False, **private)

            for trigger, show in ((music.change, music_page), (photo.change, face)):
                event = trigger(**show, trigger_mode="always_last", **preview, **private)
                event.then(**idle, queue=False, **private)
                event.then(**follow, **preview, **private)
                then_estimate(event)
            # a new motion file: what it holds, the music (a dance video's sound may be it), the preview
            event = motion.change(**motion_page, trigger_mode="always_last", **preview, **private)
            event.then(**idle, queue=False, **private)
            event.then(**music_page, **preview, **private).then(**follow, **preview, **private)
            then_estimate(event)
            for trigger in (motion_fps.submit, motion_fps.blur):
                event = trigger(**motion_page, trigger_mode="always_last", **preview, **private)
                event.then(**follow, **preview, **private)
            for trigger in (offset.submit, offset.blur, length.release):
                event = trigger(**music_page, trigger_mode="always_last", **preview, **private)
                event.then(**follow, **preview, **private)
                then_estimate(event)
            for trigger in (seed.submit, seed.blur, fps.release, output_fps.release, width.input, height.input,
                            framing.input):
                event = trigger(**follow, trigger_mode="always_last", **preview, **private)
                then_estimate(event)
            for trigger in (width.input, height.input):  # the preview's frame follows the size
                trigger(**face, trigger_mode="always_last", **preview, **private)
            then_estimate(steps.release(**idle, queue=False, **private))
            demo.load(**estimate, queue=False, **private)

            panel_extra = ("table", "plan")
            plan_button.click(**page.event(panel.plan, "dance", PANEL_OUTPUTS, panel_extra), **preview, **private)
            table.input(**page.event(panel.edit, "dance", PANEL_OUTPUTS, panel_extra), trigger_mode="always_last",
                        **preview, **private)
            put_move.click(**page.event(panel.put_move, "dance", PANEL_OUTPUTS,
                                        ("move", "phrase_number", *panel_extra)), **preview, **private)
            plan_upload.upload(**page.event(panel.upload, "dance", PANEL_OUTPUTS, ("plan_upload", *panel_extra)),
                               **preview, **private)

            # the plan shown is danced, else a new one in the style chosen
            run = page.event(app.generate_page, "generate",
                             (*results, "generate", "stop", "status", "face_text", "music_text", "motion_text"),
                             extra=("plan",))
            generate.click(**page.event(app.arm, None, ("generate", "stop", "status")), queue=False, **private).then(
                **run, concurrency_limit=config.concurrency, concurrency_id="generate", **private).then(
                **estimate, queue=False, **private)  # the run refined the rates
            stop.click(app.stop, None, status, queue=False, **private).then(
                **page.event(app.buttons_after_stop, None, ("generate", "stop")), queue=False, **private)
        if review is not None:
            with gr.Tab(T.REVIEW_TAB):
                review_blocks(review)

    demo.queue(default_concurrency_limit=config.concurrency, max_size=config.max_queue)
    return demo


def launch_kwargs(studio: DanceStudio, config: ServeConfig = ServeConfig()) -> dict:
    """Options for ``demo.launch`` (Gradio 6 takes the theme and css there): look, upload limit, served folders."""
    review = [str(p) for p in served_folders(config.review)] if config.review else []  # blind: clips and photos
    allowed = [str(studio.outputs.path()), str(_examples_dir(config)), *review]
    return dict(theme=gr.themes.Soft(), css=CSS, max_file_size=config.max_file_size, allowed_paths=allowed,
                show_error=False)

