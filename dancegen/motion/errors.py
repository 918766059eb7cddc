"""Errors of the motion stage."""

from ..errors import UserError


class MotionError(UserError):
    """A motion source that cannot be used: one line for the person who gave it."""


class NoPoseDetector(MotionError):
    """A video given as the motion where DWPose's weights are not to be had (the poses themselves still work)."""
