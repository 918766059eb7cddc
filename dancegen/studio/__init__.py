"""The studio: one photo and one music file in; the A/B dance videos, a skeleton preview and a report out.

* :mod:`.studio`: :class:`DanceStudio`, which the app and the command line talk to (prepare, diffuse, generate);
* :mod:`.loading`: what a configuration loads (models, face analysers, DWPose) and the banner saying so;
* :mod:`.calibration`: the runs that calibrate the run-time estimate (:mod:`dancegen.timing`) on this machine;
* :mod:`.videos`: the videos written from the final latents with every video's metrics.
"""

from .studio import DEFAULT_RATES, OUTPUT_FILES, DanceStudio, GenerationResult, Prepared

__all__ = ["DEFAULT_RATES", "OUTPUT_FILES", "DanceStudio", "GenerationResult", "Prepared"]
