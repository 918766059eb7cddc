"""Models stage: the networks and their weights; identity tokens are made here.

* :mod:`.presets`: sizes of every network per preset, and generation defaults;
* :mod:`.face_encoder`: face embedding [512] + CLIP token -> N identity tokens (StableAnimator's ``FusionFaceId``);
* :mod:`.identity`: the identity-attention processors (distribution-matched fusion ``h + alpha * i'``);
* :mod:`.pose_net`: skeleton images -> a residual after the UNet's ``conv_in``;
* :mod:`.build`: building a preset (random weights), device and dtype choice;
* :mod:`.weights`: StableAnimator's checkpoints, loaded strictly;
* :mod:`.trained`: folders written by ``dancegen train`` (trained parts over a named base), and loading a preset's
  networks from either kind of folder.

Importing loads no weights and downloads nothing.
"""

from .build import DanceModels, build, build_unet, cast, pick_device, pick_dtype
from .presets import PRESETS, Preset, get_preset
from .trained import ModelSource, TrainedWeights, load_models, read_trained, resolve_models, write_trained
from .weights import WeightPaths, load_stableanimator, load_strict, read_state_dict, resolve_weights

__all__ = ["PRESETS", "DanceModels", "ModelSource", "Preset", "TrainedWeights", "WeightPaths", "build", "build_unet",
           "cast", "get_preset", "load_models", "load_stableanimator", "load_strict", "pick_device", "pick_dtype",
           "read_state_dict", "read_trained", "resolve_models", "resolve_weights", "write_trained"]
