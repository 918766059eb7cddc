"""Per-session stop flags: the Stop button of a browser tab (or API client) reaches only its own run."""

from __future__ import annotations

import threading


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
