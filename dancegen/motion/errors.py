"""Errors of the motion stage."""

from ..errors import UserError


class MotionError(UserError):
    """A motion source that cannot be used: one line for the person who gave it."""
