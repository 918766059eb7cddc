"""Choreography stage: analysed music and the body in the photo in; a pose sequence [T, 18, 2] (canvas px) out.

* :mod:`.interface`: the :class:`MusicToPose` interface any choreographer implements (a learned model too) and
  :func:`retarget_to_body`;
* :mod:`.planner`: :class:`ProceduralChoreographer`, beat-synced phrases of moves;
* :mod:`.moves`: the moves, as a table;
* :mod:`.rig`: forward kinematics, leg IK and steps on the reference body.
"""

from .interface import ChoreographyError, MusicToPose, retarget_to_body
from .planner import ChoreoConfig, ChoreoPlan, ProceduralChoreographer

__all__ = ["ChoreoConfig", "ChoreoPlan", "ChoreographyError", "MusicToPose", "ProceduralChoreographer",
           "retarget_to_body"]
