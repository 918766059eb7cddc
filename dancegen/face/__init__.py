"""Face stage: a photo in; the largest face out (box, 5 landmarks, ArcFace-aligned 112x112 crop, raw 512-d
embedding) with a preview picture and notes for the person.

* :mod:`.models`: which models (antelopev2 for the trained encoder, the offline pack for previews and metrics),
  where their files are, loading them;
* :mod:`.analyser`: :class:`FaceAnalyser` (detect, align, embed);
* :mod:`.cache`: its results kept by image content (and found from a file's bytes without decoding);
* :mod:`.text`: the notes it writes for the person;
* :mod:`.preview`: the annotated preview picture.
"""

from .analyser import (DetectedFace, FaceAnalyser, FaceAnalyserConfig, FaceResult, IdentitySourceError,
                       require_antelopev2)
from .models import antelopev2_folder, find_antelopev2

__all__ = ["DetectedFace", "FaceAnalyser", "FaceAnalyserConfig", "FaceResult", "IdentitySourceError",
           "antelopev2_folder", "find_antelopev2", "require_antelopev2"]
