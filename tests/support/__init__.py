"""Helpers shared by the tests: synthetic music with known beats, serving the app on a free port."""
