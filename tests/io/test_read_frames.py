"""read_frames: frames picked by seeking are exactly the frames decoding from the start gives at those indices."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from dancegen.io.read import iter_frames, read_frames
from dancegen.io.video import VideoError, VideoWriter

N = 60  # frames in the test video
KEYINT = 8


def numbered_frames(n: int = N, h: int = 48, w: int = 64) -> np.ndarray:
    """[n, h, w, 3] uint8 frames that differ from each other: a bar at a different place and a grey level per frame
    (so a frame one off from the one asked for never equals it)."""
    frames = np.zeros((n, h, w, 3), np.uint8)
    for i in range(n):
        frames[i] = (i * 4) % 256
        frames[i, 8:40, i % (w - 6):i % (w - 6) + 6] = (250, 30, 30)
    return frames


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    path = tmp_path_factory.mktemp("seek") / "numbered.mp4"
    with VideoWriter(path, 24, keyint=KEYINT) as writer:  # libx264's medium preset: B-frames, shown out of order
        writer.write(numbered_frames())
    return path


def shifted(source, target, offset_s: float):
    """A copy of ``source`` (no re-encoding) whose timestamps start ``offset_s`` after 0."""
    with av.open(str(source)) as src, av.open(str(target), "w", format="mp4") as dst:
        stream_in = src.streams.video[0]
        stream_out = dst.add_stream_from_template(stream_in)
        offset = int(offset_s / stream_in.time_base)
        for packet in src.demux(stream_in):
            if packet.dts is None:
                continue
            packet.pts += offset
            packet.dts += offset
            packet.stream = stream_out
            dst.mux(packet)
    return target


def keyframes(path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for p in container.demux(container.streams.video[0]) if p.is_keyframe)


INDICES = [[0], [5, 6, 7, 8, 9], [17, 21, 25, 29], [N - 1], [40, 3, 40, N - 1, 8], [31, 32, 33, 34, 35, 36, 37, 38]]


def test_the_keyframe_interval_is_the_one_asked_for(video):
    assert keyframes(video) >= N // KEYINT


@pytest.mark.parametrize("indices", INDICES, ids=str)
def test_seeking_gives_the_frames_decoding_from_the_start_gives(video, indices):
    everything = list(iter_frames(video))
    assert len(everything) == N
    got = read_frames(video, indices)
    assert len(got) == len(indices)
    for i, frame in zip(indices, got):
        assert np.array_equal(frame, everything[i]), f"frame {i}"


def test_a_stream_whose_first_timestamp_is_not_zero(video, tmp_path):
    late = shifted(video, tmp_path / "late.mp4", 1.5)
    with av.open(str(late)) as container:
        first = next(container.decode(video=0))
        assert first.pts * Fraction(container.streams.video[0].time_base) >= 1  # the shift survived muxing
    everything = list(iter_frames(late))
    for indices in INDICES:
        for i, frame in zip(indices, read_frames(late, indices)):
            assert np.array_equal(frame, everything[i]), f"frame {i} of {indices}"


def test_frames_past_the_end_are_a_clear_error(video):
    with pytest.raises(VideoError, match=f"numbered.mp4 has no frame {N}"):
        read_frames(video, [N - 2, N, N + 5])
    with pytest.raises(VideoError, match="keyint"):
        VideoWriter(video.parent / "x.mp4", 24, keyint=0)
    assert read_frames(video, []) == []


def test_our_videos_are_read_by_seeking_not_from_the_start(video, monkeypatch):
    import dancegen.io.read as module

    def from_the_start(*args, **kwargs):
        raise AssertionError("read_frames decoded from the start")

    expected = read_frames(video, [N - 3, N - 1])
    monkeypatch.setattr(module, "iter_frames", from_the_start)
    assert all(np.array_equal(a, b) for a, b in zip(read_frames(video, [N - 3, N - 1]), expected))


class Overshooting:
    """A container whose first seeks land ``misses`` keyframes too late (as a demuxer seeking by decode time may)."""

    def __init__(self, container, misses: int):
        self.container, self.misses = container, misses

    def __getattr__(self, name):
        return getattr(self.container, name)

    def seek(self, offset, **kwargs):
        if self.misses:
            self.misses -= 1
            stream = self.container.streams.video[0]
            offset += int(N / (stream.average_rate * stream.time_base))  # past the last keyframe
        return self.container.seek(offset, **kwargs)


@pytest.mark.parametrize("misses", [1, 2, 10])
def test_a_seek_that_lands_too_late_aims_earlier(video, misses):
    import dancegen.io.read as module

    everything = list(iter_frames(video))
    with av.open(str(video)) as container:
        found = module._seek_and_decode(Overshooting(container, misses), container.streams.video[0], [37, 45])
    if misses == 10:  # every seek lands late, down to frame 0: the caller decodes from the start
        assert found is None
    else:
        assert np.array_equal(found[37], everything[37]) and np.array_equal(found[45], everything[45])
