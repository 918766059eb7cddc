"""Where the repository's files are, for every test wherever it lives."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ASSETS = REPO / "assets"
ASTRONAUT = ASSETS / "astronaut.png"  # one face (Eileen Collins, NASA, public domain)
GROUP = ASSETS / "group.png"  # several faces, composed from the astronaut and scikit-image's camera (see SOURCES.md)
SAMPLE_MUSIC = ASSETS / "sample_music.wav"  # a steady 116 BPM groove we synthesised
FIXTURES = REPO / "tests" / "fixtures"  # facts about StableAnimator and recorded outputs
