"""The page's controls, declared once (:data:`CONTROLS`), and the :class:`Page` that hands them to the handlers by
name.

Each :class:`Control` says what its value is called (the key a handler reads it by and the API's parameter name),
which stage of the data flow first reads it (``photo``, ``music``, ``dance``, ``video``; which handlers get which
stages' controls is :data:`HANDLER_STAGES`: the face preview the photo's, the music summary the music's, the
skeleton preview and the panel the photo's, music's and dance's, generation and the estimate all) and which
:class:`~dancegen.config.GenerationSettings` field it sets. :func:`read_settings` turns the values of any handler
into settings; every default comes from the settings dataclasses in :mod:`dancegen.config`.

Adding a control: one line in :data:`CONTROLS`, and its component placed on the page with ``page.add(name, ...)``
in :mod:`.layout`. Every handler of its stage (and the API endpoints) then receives it by name, and a control with
a ``field`` reaches :class:`GenerationSettings` without further edits.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import inspect
import math
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gradio as gr

from ..config import GenerationSettings
from ..errors import SettingsError
from . import text as T

AUTO = "auto"  # a width, height or style left to the photo's shape or the music (as does None or "")
STAGES = ("photo", "music", "dance", "video")  # in data-flow order
# which stages' controls each kind of handler reads
HANDLER_STAGES = {"face": ("photo",), "music": ("music",), "dance": ("photo", "music", "dance"), "generate": STAGES}


@dataclasses.dataclass(frozen=True)
class Control:
    """One input of the page."""

    name: str  # the key handlers read its value by; the API's parameter name
    stage: str  # the first stage whose handlers read it (one of STAGES)
    label: str  # what the page calls it; error messages name it so
    field: str | None = None  # the GenerationSettings field it sets (None: an input the handlers read themselves)
    read: str = "number"  # how a raw value becomes the field's: number, integer, choice, width, height, file


CONTROLS: tuple[Control, ...] = (
    Control("photo", "photo", T.PHOTO_NAME, read="file"),
    Control("width", "photo", T.WIDTH_LABEL, "size", "width"),
    Control("height", "photo", T.HEIGHT_LABEL, "size", "height"),
    Control("music", "music", T.MUSIC_NAME, read="file"),
    Control("offset", "music", T.OFFSET_LABEL, "music_offset_s"),
    Control("length", "music", T.LENGTH_LABEL, "seconds"),
    # a brought dance (its poses replace the planned moves); "music": a dance video with sound can be the music, so
    # the music's handlers read it too
    Control("motion", "music", T.MOTION_NAME, read="file"),
    Control("fps", "dance", T.FPS_LABEL, "fps"),
    Control("seed", "dance", T.SEED_LABEL, "seed", "integer"),
    Control("framing", "dance", T.FRAMING_LABEL, "framing", "choice"),
    Control("output_fps", "dance", T.OUTPUT_FPS_LABEL, "output_fps"),
    Control("style", "dance", T.STYLE_LABEL, "style", "choice"),
    Control("motion_fps", "dance", T.MOTION_FPS_LABEL),  # the rate of uploaded pose files (app.motion reads it)
    Control("alpha", "video", T.ALPHA_LABEL, "alpha"),
    Control("id_tokens", "video", T.TOKENS_LABEL, "id_tokens", "integer"),
    Control("steps", "video", T.STEPS_LABEL, "steps", "integer"),
    Control("guidance", "video", T.GUIDANCE_LABEL, "guidance"),
)


def names(kind: str, controls: Sequence[Control] = CONTROLS) -> tuple[str, ...]:
    """The control names a handler of ``kind`` (a key of HANDLER_STAGES) reads, in declaration order."""
    return tuple(c.name for c in controls if c.stage in HANDLER_STAGES[kind])


# ----------------------------------------------------------------------------------------------- values


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


def number(value: Any, name: str) -> float | None:
    """A control's value as a float (None when empty); SettingsError naming the control when it is no number."""
    if value is None or value == "":
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise SettingsError(T.BAD_NUMBER.format(name=name, value=value)) from None
    if not math.isfinite(result):
        raise SettingsError(T.BAD_NUMBER.format(name=name, value=value))
    return result


def integer(value: Any, name: str) -> int | None:
    """Like :func:`number`, rounded to an int."""
    result = number(value, name)
    return None if result is None else int(round(result))


def _choice(value: Any, name: str) -> str | None:
    return None if value in (None, "", AUTO) else str(value)


_READERS: dict[str, Callable[[Any, str], Any]] = {"number": number, "integer": integer, "choice": _choice,
                                                  "width": integer, "height": integer}


def read_settings(values: Mapping[str, Any], defaults: Mapping[str, Any] | None = None,
                  controls: Sequence[Control] = CONTROLS) -> GenerationSettings:
    """The settings that ``values`` (control name -> raw value) ask for: each control with a field sets it; a
    control missing from ``values`` or left empty keeps ``defaults``' value (a field -> value map over the
    dataclass's own defaults). Width and height both "auto" (or empty): the canvas follows the photo's shape.
    SettingsError for a value that is not a number, a lone width or height, or one out of range."""
    fields = dict(defaults or {})
    size: dict[str, int | None] = {}
    for control in controls:
        if control.field is None or control.name not in values:
            continue
        raw = values[control.name]
        value = None if raw == AUTO else _READERS[control.read](raw, control.label)
        if control.read in ("width", "height"):
            size[control.read] = value
        elif value is not None:
            fields[control.field] = value
    if size:
        if (size.get("width") is None) != (size.get("height") is None):
            raise SettingsError(T.SIZE_BOTH)
        fields["size"] = None if size.get("width") is None else (size["width"], size["height"])
    return GenerationSettings(**fields)


# ------------------------------------------------------------------------------------------------- page


class Page:
    """The page's components by name (the controls and every output), and the events that bind handlers to them.

    A handler takes the values of its controls by name (a dict) and returns its outputs by name (a dict; an output
    it leaves out stays as it was). :meth:`event` turns it into a Gradio event's ``fn``, ``inputs`` (a set: Gradio
    passes one {component: value} dict) and ``outputs``; :meth:`api` into an API endpoint whose parameters are the
    control names."""

    def __init__(self, controls: Sequence[Control] = CONTROLS):
        self.controls = tuple(controls)
        self.parts: dict[str, Any] = {}

    def add(self, name: str, component):
        """Place ``component`` under ``name`` (a control's name, or an output's); returns it."""
        if name in self.parts:
            raise ValueError(f"two components are named {name!r}")
        self.parts[name] = component
        return component

    def inputs(self, kind: str | None, extra: Sequence[str] = ()) -> dict[str, Any]:
        """name -> component of the controls a handler of ``kind`` reads (None: none), then ``extra``."""
        chosen = names(kind, self.controls) if kind is not None else ()
        return {n: self.parts[n] for n in (*chosen, *extra) if n in self.parts}

    @staticmethod
    def _wrap(handler: Callable, targets: dict[str, Any], named: dict[int, str] | None):
        """Gradio's fn around ``handler``: the event's {component: value} dict (``named``: id -> name) or the API's
        keyword arguments in, the outputs by component out. Gradio fills ``request`` (and ``progress``, only for
        a handler that reports progress) by their annotations and defaults."""
        def by_component(outputs: Mapping[str, Any]) -> dict:
            return {targets[n]: v for n, v in outputs.items() if n in targets}

        def values(data: Mapping | None, kwargs: dict) -> dict:
            return kwargs if named is None else {named[id(c)]: v for c, v in (data or {}).items()}

        if "progress" in inspect.signature(handler).parameters:
            if named is None:
                def api_with_progress(request: gr.Request = None, progress=gr.Progress(), **kwargs):
                    return by_component(handler(kwargs, request=request, progress=progress))
                return api_with_progress

            def event_with_progress(data: dict, request: gr.Request = None, progress=gr.Progress()):
                return by_component(handler(values(data, {}), request=request, progress=progress))
            return event_with_progress
        if named is None:
            def api(request: gr.Request = None, **kwargs):
                return by_component(handler(kwargs, request=request))
            return api

        def event(data: dict, request: gr.Request = None):
            if not named:  # an event without inputs (a button's own state): the handler takes the request alone
                return by_component(handler(request=request))
            return by_component(handler(values(data, {}), request=request))
        return event

    def event(self, handler: Callable, kind: str | None, outputs: Sequence[str], extra: Sequence[str] = ()) -> dict:
        """Keyword arguments of a Gradio event running ``handler(values, request=...)`` (and ``progress=`` when it
        takes one) on the controls of ``kind`` and ``extra``, setting ``outputs`` (names)."""
        inputs = self.inputs(kind, extra)
        named = {id(c): n for n, c in inputs.items()}
        targets = {n: self.parts[n] for n in outputs}

        return dict(fn=self._wrap(handler, targets, named), inputs=set(inputs.values()),
                    outputs=list(targets.values()))

    def api(self, handler: Callable, kind: str, outputs: Sequence[str]) -> dict:
        """Keyword arguments of an API endpoint running ``handler``: its parameters are the names of the controls
        of ``kind`` (with the components' values as defaults; a control whose component starts empty, such as
        an upload, defaults to None, so a client may leave it out and the handler says what is missing); it
        returns ``outputs`` in this order."""
        targets, inputs = {n: self.parts[n] for n in outputs}, self.inputs(kind)
        fn = self._wrap(handler, targets, None)
        empty = [n for n, c in inputs.items() if getattr(c, "value", None) is None]
        return dict(fn=_with_defaults(fn, empty), inputs_kwargs=inputs, outputs=list(targets.values()))


def _with_defaults(fn: Callable, names: Sequence[str]) -> Callable:
    """``fn`` (taking ``**kwargs``) with keyword-only parameters ``names`` defaulting to None in its signature:
    Gradio's API then marks them optional (it reads the defaults off the signature); the call is unchanged."""
    signature = inspect.signature(fn)
    params = list(signature.parameters.values())
    extra = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=None) for n in names]
    fn.__signature__ = signature.replace(parameters=[*params[:-1], *extra, params[-1]])  # before **kwargs
    return fn
