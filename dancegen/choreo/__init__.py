"""Choreography stage: analysed music and the body in the photo in; a dance plan and its poses [T, 18, 2] out.

* :mod:`.interface`: the :class:`MusicToPose` interface any choreographer implements (a learned model too) and
  :func:`retarget_to_body`;
* :mod:`.planner`: :class:`ProceduralChoreographer`: sections, phrases and moves -> a :class:`DancePlan`, and a
  plan -> poses;
* :mod:`.document`: the plan as a versioned JSON document (``choreography.json``), loaded with checks;
* :mod:`.countsheet`: the plan as a choreographer's count sheet (markdown);
* :mod:`.styles`: the styles (weighted move pools) and the default style of a song;
* :mod:`.vocabulary` / :mod:`.moves`: the moves, as a table, and how a move becomes keys;
* :mod:`.grid`: the counts of the music; :mod:`.motion`: keys, splines, steps and turns -> poses;
* :mod:`.rig`: forward kinematics with a body turn, leg IK and steps on the reference body.
"""

from .countsheet import count_sheet
from .document import ChoreographyPlanError, DancePlan, MoveEntry, MusicRef, Phrase, load_plan
from .interface import ChoreographyError, MusicToPose, retarget_to_body
from .planner import ChoreoConfig, ProceduralChoreographer
from .styles import STYLES, default_style
from .vocabulary import MOVES

__all__ = ["MOVES", "STYLES", "ChoreoConfig", "ChoreographyError", "ChoreographyPlanError", "DancePlan",
           "MoveEntry", "MusicRef", "MusicToPose", "Phrase", "ProceduralChoreographer", "count_sheet",
           "default_style", "load_plan", "retarget_to_body"]
