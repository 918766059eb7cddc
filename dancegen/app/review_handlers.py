"""What the blind review page's events do (:class:`ReviewApp`), callable directly (tests) and through Gradio.

The pairs, the shuffling, the store and the counting are :mod:`dancegen.study.review`'s; this module only turns
them into the page's outputs. The hidden assignment (which side holds the identity video) stays on the server, in
the session's ``gr.State``, until the answer is stored. summary.md is written again after answers in a thread of its
own (one at a time; answers that come meanwhile are in the next one), so a reviewer never waits for it.
"""

from __future__ import annotations

import logging
import os
import random
import threading

import gradio as gr

from ..errors import UserError
from ..study.review import (ReviewStore, Showing, blind_total, meaning, next_pair, reviewer_name, show,
                            study_folder, study_pairs)
from ..study.summary import write_summary
from . import text as T

logger = logging.getLogger(__name__)


class ReviewApp:
    """The handlers of the blind review of one study folder."""

    def __init__(self, folder: str | os.PathLike, rng: random.Random | None = None):
        self.folder = study_folder(folder)
        self.store = ReviewStore.of_study(self.folder)
        self.rng = rng if rng is not None else random.SystemRandom()  # sides and order: not guessable
        self._summary_due = threading.Event()  # an answer came since the summary was last begun
        self._summary_lock = threading.Lock()  # held by the one thread writing the summary
        self._summary_thread: threading.Thread | None = None

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
        pair = next_pair(pairs, judged, self.rng, self.store.judgements_per_pair())
        total = blind_total(pairs)
        if pair is None:
            text = T.REVIEW_ALL_DONE.format(total=total) if pairs else T.REVIEW_NO_PAIRS
            return (*empty, text, None)
        showing = show(self.folder, pair, self.rng)
        done = len({p.base for p in pairs if p.id in judged})
        status = T.REVIEW_SHOWING.format(number=done + 1, total=total)
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
        self._summarise_soon()
        identity_side = showing.identity_side
        baseline_side = "right" if identity_side == "left" else "left"
        text = T.REVIEW_REVEAL.format(setting=showing.pair.setting, identity_side=identity_side,
                                      baseline_side=baseline_side,
                                      choice=T.REVIEW_CHOICE_NAMES[meaning(person, identity_side)])
        return text, gr.update(interactive=False), None

    def _summarise_soon(self) -> None:
        """Have summary.md written again with the answers so far, off the request's path."""
        self._summary_due.set()
        if self._summary_lock.acquire(blocking=False):
            self._summary_thread = threading.Thread(target=self._summarise, name="review-summary", daemon=True)
            self._summary_thread.start()

    def _summarise(self) -> None:
        """Write the summary until no answer is waiting for it (the answers are stored whatever happens here)."""
        try:
            while self._summary_due.is_set():
                self._summary_due.clear()
                try:
                    write_summary(self.folder, plots=False)
                except Exception:
                    logger.warning("could not write the summary of %s after a review answer", self.folder,
                                   exc_info=True)
        finally:
            self._summary_lock.release()
        if self._summary_due.is_set():  # an answer came between the last check and the release
            self._summarise_soon()

    def wait_for_summary(self, timeout: float | None = None) -> None:
        """Until the summary holds every answer given so far (tests, and before the process ends)."""
        while (thread := self._summary_thread) is not None and thread.is_alive():
            thread.join(timeout)
            if timeout is not None:
                break
