"""Sections of a song from the music itself: synthetic songs built from different pieces (A B A B, A B C A), one
piece repeated, short music, determinism, and a segment that takes its sections from the song around it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from support.audio_synth import synth_track, write_wav
from support.music import SR

from dancegen.music import MusicLibrary, Section, analyse_samples, find_sections
from dancegen.music.analysis import MusicAnalysis, with_sections_of
from dancegen.music.structure import sections_within

pytestmark = pytest.mark.usefixtures("warmed_up")  # compile the beat tracker once, up front


def song(styles: list[str], bars: int, bpm: float) -> tuple[np.ndarray, np.ndarray]:
    """Pieces of ``bars`` 4/4 bars each, one per style, back to back (each occurrence with its own seed):
    (samples [n], true section starts [P] s)."""
    seconds = bars * 4 * 60.0 / bpm
    pieces = [synth_track(bpm, seconds, style=style, seed=i)[0] for i, style in enumerate(styles)]
    return np.concatenate(pieces), np.arange(len(styles)) * seconds


def assert_sections_valid(result: MusicAnalysis) -> None:
    """Sections cover [0, duration] in order without gaps, inner starts on bar starts, labels named in order."""
    sections = result.sections
    assert sections and sections[0].start_s == 0.0 and sections[-1].end_s == pytest.approx(result.duration_s)
    for before, after in zip(sections[:-1], sections[1:]):
        assert before.end_s == after.start_s and before.label != after.label
        assert np.min(np.abs(result.downbeats_s - after.start_s)) < 1e-6  # on a downbeat
    assert all(s.end_s > s.start_s for s in sections)
    first_seen = list(dict.fromkeys(s.label for s in sections))
    assert first_seen == [chr(ord("A") + i) for i in range(len(first_seen))]


@pytest.mark.parametrize(
    "styles, labels, bars, bpm",
    [(["chords", "drums", "chords", "drums"], "ABAB", 8, 120.0),
     (["drums", "chords", "drums", "chords"], "ABAB", 12, 100.0),
     (["chords", "drums", "clicks", "chords"], "ABCA", 8, 120.0)],
)  # fmt: skip
def test_sections_of_a_song_built_from_different_pieces(styles, labels, bars, bpm):
    samples, starts = song(styles, bars, bpm)
    result = analyse_samples(samples, SR)
    assert_sections_valid(result)
    assert "".join(s.label for s in result.sections) == labels
    bar = 4 * 60.0 / bpm
    np.testing.assert_allclose([s.start_s for s in result.sections], starts, atol=bar)
    summary = result.to_json_dict()["sections"]
    assert [(d["label"], d["start_s"], d["end_s"]) for d in summary] == [
        (s.label, round(s.start_s, 3), round(s.end_s, 3)) for s in result.sections]


def test_one_piece_throughout_is_one_section():
    samples, _ = song(["drums"] * 4, 8, 120.0)
    result = analyse_samples(samples, SR)
    assert result.sections == (Section("A", 0.0, result.duration_s),)


def test_sections_are_deterministic():
    samples, _ = song(["chords", "drums", "chords", "drums"], 8, 120.0)
    first, second = analyse_samples(samples, SR), analyse_samples(samples.copy(), SR)
    assert first.sections == second.sections and len(first.sections) == 4


def two_halves(frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Frame features of music whose halves differ in harmony and timbre: (chroma [12, N], log-mel [64, N])."""
    rng = np.random.default_rng(0)
    chroma, log_mel = 0.1 * rng.random((12, frames)), -80.0 + 5.0 * rng.random((64, frames))
    half = frames // 2
    chroma[[0, 4, 7], :half] += 1.0  # C major, then F# major
    chroma[[6, 10, 1], half:] += 1.0
    log_mel[:20, :half] += 60.0  # dark, then bright
    log_mel[40:, half:] += 60.0
    return chroma, log_mel


def test_short_music_or_few_beats_is_one_section():
    hop = 512 / 22050
    chroma, log_mel = two_halves(1300)  # 30 s: two sections (the features do show two parts)
    beats = np.arange(0, 1300, 22)  # 0.51 s apart; every beat a bar start, so sections may be short
    parts = find_sections(chroma, log_mel, beats, beats, 1300 * hop, sr=22050, hop_length=512)
    assert [s.label for s in parts] == ["A", "B"] and parts[1].start_s == pytest.approx(15.1, abs=1.0)
    # 7.4 s of music (30 beats); 21 s with only 15 beats: both would show two parts, but are too little to judge
    for frames, step in ((320, 11), (900, 60)):
        chroma, log_mel = two_halves(frames)
        beats = np.arange(0, frames, step)
        duration = frames * hop
        assert find_sections(chroma, log_mel, beats, beats, duration, sr=22050, hop_length=512) == (
            Section("A", 0.0, duration),)


def test_sections_within_clips_shifts_snaps_and_renames():
    song_sections = (Section("A", 0.0, 16.0), Section("B", 16.0, 32.0), Section("A", 32.0, 48.0),
                     Section("C", 48.0, 50.0), Section("B", 50.0, 64.0))
    grid = np.arange(0.0, 40.0, 2.0) + 0.1  # the part's bar starts, slightly off the song's
    part = sections_within(song_sections, 20.0, 60.0, grid, min_section_s=8.0)
    # B 20..32 -> A 0..12.1; A 32..48 -> B 12.1..28.1; C 48..50 (2 s) joins its longer neighbour B; B 50..60 -> A
    assert part == (Section("A", 0.0, 12.1), Section("B", 12.1, 30.1), Section("A", 30.1, 40.0))
    # a tail shorter than min_section_s joins its neighbour; a part inside one section is one section "A"
    assert sections_within(song_sections, 4.0, 19.0, grid, min_section_s=8.0) == (Section("A", 0.0, 15.0),)
    assert sections_within(song_sections, 34.0, 44.0, grid, min_section_s=8.0) == (Section("A", 0.0, 10.0),)


def test_with_sections_of_takes_the_context_sections():
    samples, _ = song(["chords", "drums", "chords", "drums"], 8, 120.0)
    context = analyse_samples(samples, SR)
    segment = analyse_samples(samples[20 * SR : 60 * SR], SR, offset_s=20.0)
    # a context whose sections are not what the segment's own music says: the segment follows the context
    told = (Section("A", 0.0, 10.0), Section("B", 10.0, 39.0), Section("A", 39.0, 64.0))
    result = with_sections_of(segment, replace(context, sections=told))
    assert_sections_valid(result)
    assert result.sections == (Section("A", 0.0, result.sections[1].start_s),
                               Section("B", result.sections[1].start_s, segment.duration_s))
    assert result.sections[1].start_s == pytest.approx(19.0, abs=1.01)  # the segment's bar start nearest 19 s
    assert with_sections_of(segment, replace(context, sections=())) is segment


def test_a_segment_takes_its_sections_from_the_song_around_it(tmp_path):
    samples, _ = song(["chords", "drums", "chords", "drums"], 8, 120.0)  # A B A B, 16 s each
    path = tmp_path / "abab.wav"
    write_wav(path, samples, SR)
    segment = MusicLibrary(max_music_s=300.0).analyse(path, offset_s=20.0, seconds=40.0)  # B 20..32 A 32..48 B
    assert segment.duration_s == pytest.approx(40.0)
    assert_sections_valid(segment)
    assert "".join(s.label for s in segment.sections) == "ABA"
    np.testing.assert_allclose([s.start_s for s in segment.sections], [0.0, 12.0, 28.0], atol=2.0)
