"""The README shows what a new user needs, and its API example is the tested script, word for word."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_readme_quotes_the_tested_client_example():
    assert (ROOT / "examples" / "client.py").read_text().strip() in README


def test_readme_has_the_two_setup_commands():
    assert "pip install -r requirements.txt && python app.py" in README
    assert "pip install -r requirements-dev.txt && python -m pytest" in README


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pip install -q -r requirements-dev.txt" in ci and "python -m pytest" in ci
