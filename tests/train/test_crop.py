"""Training samples are cropped to the training size's aspect around the dancer, never stretched: a drawn rectangle
keeps its shape, and the skeleton, the face mask and the reference go through the same crop."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from dancegen.io.video import write_mp4
from dancegen.pose.topology import J
from dancegen.train.crop import sample_crop
import dancegen.train.data as data_module
from dancegen.pose.render import render_whole_body
from dancegen.train.data import Clip, ClipDataset

T = 6
SEEN = ("Nose", "LWrist", "RAnkle")  # joints no limb joins: the skeleton is three dots


def still_clip(folder, frame_size, rect, joints, reference=None):
    """A clip of T identical dark frames with a white rectangle ``rect`` (x0, y0, x1, y1); the nose at the
    rectangle's centre, the other ``joints`` (name -> (x, y)) seen, every other joint unseen (confidence 0)."""
    folder.mkdir(parents=True)
    w, h = frame_size
    frame = np.full((h, w, 3), 20, np.uint8)
    x0, y0, x1, y1 = rect
    frame[y0:y1, x0:x1] = 235
    write_mp4(np.stack([frame] * T), 8, folder / "video.mp4")
    pose = np.zeros((18, 3), np.float32)
    pose[J["Nose"]] = ((x0 + x1) / 2, (y0 + y1) / 2, 1.0)
    for name, (x, y) in joints.items():
        pose[J[name]] = (x, y, 1.0)
    boxes = np.tile(np.array(rect, np.float32), (T, 1))
    ref = None
    if reference is not None:
        ref = folder / "reference.png"
        Image.fromarray(reference).save(ref)
    return Clip(folder=folder, n_frames=T, size=(w, h), video=folder / "video.mp4", frame_files=(),
                poses=np.tile(pose, (T, 1, 1)), face_boxes=boxes, embedding=np.zeros(512, np.float32),
                reference=ref)


def bright_extent(image: np.ndarray) -> tuple[float, float, float, float]:
    """(width, height, centre x, centre y) of the bright rectangle in an [H, W, 3] image in [-1, 1] or uint8, to a
    fraction of a pixel: the brightness summed along the rows and columns through its middle."""
    grey = np.asarray(image, np.float64).mean(axis=-1)
    if grey.min() < 0:
        grey = (grey + 1) * 127.5
    level = np.clip((grey - 20) / (235 - 20), 0, 1)  # 0 background, 1 rectangle
    ys, xs = np.nonzero(level > 0.5)
    cy, cx = int(np.median(ys)), int(np.median(xs))
    weight = level.sum()
    mx = (level.sum(axis=0) * np.arange(level.shape[1])).sum() / weight
    my = (level.sum(axis=1) * np.arange(level.shape[0])).sum() / weight
    return float(level[cy].sum()), float(level[:, cx].sum()), float(mx), float(my)


def as_image(tensor) -> np.ndarray:
    """[3, H, W] in [-1, 1] -> [H, W, 3] float."""
    return tensor.permute(1, 2, 0).numpy()


CASES = {
    # frames (w, h), rectangle, other joints, training size
    "wide frames, square size": ((192, 96), (84, 24, 108, 72), {"LWrist": (70, 20), "RAnkle": (120, 80)}, (64, 64)),
    "portrait frames, square size": ((96, 192), (36, 60, 60, 108), {"LWrist": (20, 50), "RAnkle": (70, 170)},
                                     (64, 64)),
    "wide frames, portrait size": ((192, 96), (40, 30, 64, 60), {"LWrist": (30, 20), "RAnkle": (70, 80)}, (64, 128)),
    "a tall dancer, a wide size (padded)": ((96, 192), (36, 60, 60, 108), {"LWrist": (20, 5), "RAnkle": (70, 185)},
                                            (128, 64)),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_samples_keep_the_dancers_shape_and_the_skeleton_lies_on_it(tmp_path, case, monkeypatch):
    frame_size, rect, joints, size = CASES[case]
    clip = still_clip(tmp_path / "clip", frame_size, rect, joints)
    data = ClipDataset([clip], frames=3, size=size, stride=1, seed=0)
    drawn = []  # the joints each skeleton is drawn from (sample px)

    def render(pose, width, height, scores=None):
        drawn.append(np.array(pose))
        return render_whole_body(pose, width, height, scores)

    monkeypatch.setattr(data_module, "render_whole_body", render)
    sample = data[0]
    assert sample["pixels"].shape == (3, 3, size[1], size[0])
    width, height, cx, cy = bright_extent(as_image(sample["pixels"][1]))
    drawn_aspect = (rect[2] - rect[0]) / (rect[3] - rect[1])
    assert width / height == pytest.approx(drawn_aspect, rel=0.04), (width, height)
    # the nose, at the rectangle's centre in the frames, is drawn at the rectangle's centre in the sample
    assert len(drawn) == 3
    nose = drawn[1][J["Nose"]]
    assert np.hypot(nose[0] - (cx + 0.5), nose[1] - (cy + 0.5)) < 0.75, (nose, (cx, cy))  # pixel i covers [i, i+1)
    # every seen joint is in the sample (the crop holds the dancer)
    crop = data.window(0)[2]
    seen = drawn[1][[J[n] for n in SEEN]]
    assert ((seen >= 0) & (seen <= size)).all(), (crop, seen)
    # the face mask (the face box is the rectangle) covers the rectangle
    mask = sample["face_mask"][1, 0].numpy() > 0
    inside = np.asarray(as_image(sample["pixels"][1])).mean(axis=-1) > 0
    assert (mask & inside).sum() / (mask | inside).sum() > 0.85
    # frame 0 is the reference: the same crop
    assert np.abs(as_image(sample["reference"]) - as_image(sample["pixels"][0])).mean() < 0.03


def test_the_box_stays_inside_the_frame_where_it_has_room_and_is_padded_where_not(tmp_path):
    frame_size, rect, joints, size = CASES["wide frames, square size"]
    crop = sample_crop(still_clip(tmp_path / "a", frame_size, rect, joints).poses, frame_size, size)
    assert not crop.padded and crop.size[0] == crop.size[1]
    frame_size, rect, joints, size = CASES["a tall dancer, a wide size (padded)"]
    crop = sample_crop(still_clip(tmp_path / "b", frame_size, rect, joints).poses, frame_size, size)
    assert crop.padded and crop.size[0] == 2 * crop.size[1]
    x0, y0, x1, y1 = crop.box
    assert y0 <= 5 and y1 >= 185 and x0 < 0 and x1 > 96  # the whole dancer, padded left and right


def test_a_reference_of_another_size_is_cropped_around_its_centre_not_stretched(tmp_path):
    picture = np.full((150, 100, 3), 20, np.uint8)
    picture[55:95, 40:60] = 235  # a 20 x 40 rectangle in the middle of a portrait picture
    frame_size, rect, joints, size = CASES["wide frames, square size"]
    clip = still_clip(tmp_path / "clip", frame_size, rect, joints, reference=picture)
    sample = ClipDataset([clip], frames=3, size=size, stride=1, seed=0)[0]
    width, height, cx, cy = bright_extent(as_image(sample["reference"]))
    assert width / height == pytest.approx(0.5, rel=0.04)
    assert (cx, cy) == (pytest.approx(size[0] / 2 - 0.5, abs=1), pytest.approx(size[1] / 2 - 0.5, abs=1))
