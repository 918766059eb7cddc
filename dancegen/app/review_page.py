"""The blind review's page: the reference photo, two shuffled videos and the questions, wired to :class:`ReviewApp`.
:func:`review_blocks` lays it out inside any Blocks (the app's review tab); :func:`build_review_ui` is the page of
``dancegen review DIR`` alone."""

from __future__ import annotations

import gradio as gr

from ..study.review import served_folders
from . import text as T
from .review_handlers import ReviewApp


def review_blocks(app: ReviewApp) -> None:
    """The review's components and events, inside the current Blocks context."""
    gr.Markdown(T.REVIEW_INTRO)
    with gr.Row(equal_height=True):
        name = gr.Textbox(label=T.REVIEWER_LABEL, placeholder=T.REVIEWER_PLACEHOLDER, max_lines=1, scale=3,
                          elem_id="reviewer")
        next_button = gr.Button(T.REVIEW_NEXT, variant="primary", scale=1, elem_id="review-next")
    photo = gr.Image(label=T.REVIEW_PHOTO_LABEL, interactive=False, height=220, elem_id="review-photo")
    with gr.Row(equal_height=False):
        left = gr.Video(label=T.REVIEW_LEFT, interactive=False, height=320, min_width=240, loop=True,
                        elem_id="review-left")
        right = gr.Video(label=T.REVIEW_RIGHT, interactive=False, height=320, min_width=240, loop=True,
                         elem_id="review-right")
    person = gr.Radio(list(T.REVIEW_CHOICES), label=T.REVIEW_PERSON_QUESTION, elem_id="review-person")
    dance = gr.Radio(list(T.REVIEW_CHOICES), label=T.REVIEW_DANCE_QUESTION, elem_id="review-dance")
    submit = gr.Button(T.REVIEW_SUBMIT, interactive=False, elem_id="review-submit")
    status = gr.Markdown(T.REVIEW_START, elem_id="review-status")
    showing = gr.State(None)  # the hidden assignment: kept on the server, never sent to the page

    shown = [photo, left, right, person, dance, submit, status, showing]
    next_button.click(app.next_pair, [name], shown, api_visibility="private")
    name.submit(app.next_pair, [name], shown, api_visibility="private")
    submit.click(app.answer, [name, showing, person, dance], [status, submit, showing], api_visibility="private")


def build_review_ui(app: ReviewApp) -> gr.Blocks:
    """The review page alone (``dancegen review DIR``)."""
    with gr.Blocks(title=T.REVIEW_TITLE) as demo:
        gr.Markdown(f"# {T.REVIEW_TITLE}")
        review_blocks(app)
    demo.queue()
    return demo


def review_launch_kwargs(app: ReviewApp) -> dict:
    """Options for ``demo.launch``: of the study folder only the clips under their blind names and the reference
    photos are served (not results.csv, the videos' own folders or the answers)."""
    return dict(theme=gr.themes.Soft(), allowed_paths=[str(p) for p in served_folders(app.folder)],
                show_error=False)
