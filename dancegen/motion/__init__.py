"""The motion stage: a brought dance (a video or pose files) as the motion, fitted to the photo's body and moved
onto the song's beats.

:mod:`.warp` holds the timing (the motion's beats, the warp of its clock onto the song's); :mod:`.preview` draws
the source beside the fitted skeleton (imported on its own: it loads OpenCV and the video writer).
"""

from .errors import MotionError
from .warp import WarpSegment, apply_warp, keep_timing, motion_beats, plan_warp

__all__ = ["MotionError", "WarpSegment", "apply_warp", "keep_timing", "motion_beats", "plan_warp"]
