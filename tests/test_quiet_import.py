"""Quiet as a library: importing dancegen's stages (which import diffusers and transformers) writes nothing on
stderr, with no TRANSFORMERS_VERBOSITY set (the command line and the app set it; a library user does not)."""

import os
import subprocess
import sys

from support.paths import REPO


def test_importing_the_studio_and_the_trainer_prints_nothing():
    env = {k: v for k, v in os.environ.items() if k != "TRANSFORMERS_VERBOSITY"}
    code = ("import logging, dancegen, dancegen.studio, dancegen.train.trainer; "
            # the one logger quieted for diffusers' import is back as it was (not set)
            "assert logging.getLogger('transformers.utils.import_utils').level == logging.NOTSET")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
