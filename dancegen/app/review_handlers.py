"""What the blind review page's events do (:class:`ReviewApp`), callable directly (tests) and through Gradio.

The pairs, the shuffling, the store and the counting are :mod:`dancegen.study.review`'s; this module only turns
them into the page's outputs. The hidden assignment (which side holds the identity video) stays on the server, in
the session's ``gr.State``, until the answer is stored.
"""

from __future__ import annotations

import logging
import os
import random

import gradio as gr

from ..errors import UserError
from ..study.review import (ReviewStore, Showing, meaning, next_pair, reviewer_name, show, study_folder,
                            study_pairs)
from ..study.summary import write_summary
from . import text as T

logger = logging.getLogger(__name__)


class ReviewApp:
    """The handlers of the blind review of one study folder."""

    def __init__(self, folder: str | os.PathLike, rng: random.Random | None = None):
        self.folder = study_folder(folder)
        self.store = ReviewStore.of_study(self.folder)
        self.rng = rng if rng is not None else random.SystemRandom()  # sides and order: not guessable

    def next_pair(self, reviewer: str | None):
        """Show a pair this reviewer has not judged, sides shuffled -> (photo, left video, right video, person
        answer, dance answer, Submit button, status, hidden showing)."""
        empty = (None, None, None, None, None, gr.update(interactive=False))
        try:
            name = reviewer_name(reviewer)
        except UserError as exc:
            return (*empty, T.REVIEW_PROBLEM.format(message=str(exc)), None)
        pairs = study_pairs(self.folder)  # read again each time: a running study adds pairs
        judged = self.store.judged(name) & {p.id for p in pairs}
        pair = next_pair(pairs, judged, self.rng)
        if pair is None:
            text = T.REVIEW_ALL_DONE.format(total=len(pairs)) if pairs else T.REVIEW_NO_PAIRS
            return (*empty, text, None)
        showing = show(self.folder, pair, self.rng)
        status = T.REVIEW_SHOWING.format(number=len(judged) + 1, total=len(pairs))
        return (str(pair.photo), str(showing.left), str(showing.right), None, None, gr.update(interactive=True),
                status, showing)

    def answer(self, reviewer: str | None, showing: Showing | None, person: str | None, dance: str | None):
        """Store the answer with the hidden assignment, then reveal it -> (status, Submit button, showing)."""
        if showing is None:
            return T.REVIEW_NEEDS_PAIR, gr.update(interactive=False), None
        try:
            self.store.record(reviewer, showing, person, dance or None)
        except UserError as exc:
            return T.REVIEW_PROBLEM.format(message=str(exc)), gr.update(), showing
        self._summarise()
        identity_side = showing.identity_side
        baseline_side = "right" if identity_side == "left" else "left"
        text = T.REVIEW_REVEAL.format(setting=showing.pair.setting, identity_side=identity_side,
                                      baseline_side=baseline_side,
                                      choice=T.REVIEW_CHOICE_NAMES[meaning(person, identity_side)])
        return text, gr.update(interactive=False), None

    def _summarise(self) -> None:
        """summary.md again with the new answer (the answer is stored whatever happens here)."""
        try:
            write_summary(self.folder, plots=False)
        except Exception:
            logger.warning("could not write the summary of %s after a review answer", self.folder, exc_info=True)
