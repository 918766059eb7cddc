"""The canvas follows the photo, end to end on the tiny preset: a portrait photo (also one that is portrait only by
its EXIF orientation) gives portrait videos, a landscape photo landscape ones; the reference reaches the VAE with
the face's aspect kept, and the first pose's head lies on that face; a size chosen against the photo's shape, and a
face that fills the photo, are cropped or padded, never stretched."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from dancegen.config import GenerationSettings, StudioConfig
from dancegen.io.read import probe
from dancegen.pose.topology import J
from dancegen.studio import DanceStudio

FAST = dict(seconds=2.0, fps=2.0, output_fps=2.0, steps=1)  # 4 frames (no in-betweens), one denoising step


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    return DanceStudio(StudioConfig(preset="tiny", output_root=str(tmp_path_factory.mktemp("out")), progress_bar=False))


@pytest.fixture(scope="module")
def photos(astronaut, tmp_path_factory) -> dict:
    """3:4 portrait and 4:3 landscape crops of the astronaut, and the portrait stored turned with EXIF orientation 6."""
    folder = tmp_path_factory.mktemp("photos")
    portrait, landscape = astronaut.crop((34, 0, 418, 512)), astronaut.crop((0, 0, 512, 384))
    portrait.save(folder / "portrait.png")
    landscape.save(folder / "landscape.png")
    exif = Image.Exif()
    exif[0x0112] = 6  # "turn 90 degrees clockwise to view": the pixels are stored turned the other way
    portrait.transpose(Image.Transpose.ROTATE_90).save(folder / "turned.jpg", quality=95, exif=exif)
    return {"portrait": folder / "portrait.png", "landscape": folder / "landscape.png", "exif6": folder / "turned.jpg"}


class VaeInputs:
    """Records what the pipeline's VAE image processor (diffusers' VaeImageProcessor) hands the VAE: the reference
    resized to the canvas, [1, 3, H, W] in [-1, 1], as uint8 RGB pictures."""

    def __init__(self, processor):
        self.processor, self.pictures = processor, []
        self.preprocess = processor.preprocess

    def __call__(self, image, *args, **kwargs):
        out = self.preprocess(image, *args, **kwargs)
        pixels = ((out[0].permute(1, 2, 0).float().numpy() + 1) * 127.5).round().clip(0, 255)
        self.pictures.append(pixels.astype(np.uint8))  # [H, W, 3]
        return out


@pytest.fixture(scope="module")
def runs(studio, photos, drum_music):
    """One A/B generation per photo, with the VAE's input recorded."""
    spy = VaeInputs(studio.pipe.image_processor)
    studio.pipe.image_processor.preprocess = spy
    try:
        out = {}
        for name, path in photos.items():
            result = studio.generate(path, drum_music, GenerationSettings(**FAST))
            out[name] = (result, spy.pictures[-1])
        return out
    finally:
        studio.pipe.image_processor.preprocess = spy.preprocess


def aspect(box) -> float:
    return (box[2] - box[0]) / (box[3] - box[1])


@pytest.mark.parametrize("name, canvas", [("portrait", (144, 256)), ("exif6", (144, 256)),
                                          ("landscape", (256, 144))])
def test_the_videos_take_the_photos_shape_and_the_report_says_where_they_were_cut(runs, astro_ref, name, canvas):
    result, _ = runs[name]
    width, height = canvas
    for video in ("baseline", "identity"):
        info = probe(result.videos[video])
        assert (info.width, info.height, info.n_frames) == (width, height, 4), video
    skeleton = probe(result.videos["skeleton"])
    assert (skeleton.width, skeleton.height) == (2 * width, 2 * height)  # drawn at 2x, the same shape
    report = json.loads((result.out_dir / "report.json").read_text())
    assert (report["width"], report["height"]) == canvas
    photo = (384, 512) if name != "landscape" else (512, 384)
    assert report["photo_size"] == list(photo)
    x1, y1, x2, y2 = report["crop_box"]
    assert abs((x2 - x1) * height - (y2 - y1) * width) <= max(width, height)  # the canvas's aspect, to a pixel
    assert x1 >= 0 and y1 >= 0 and x2 <= photo[0] and y2 <= photo[1]  # these photos have room: no padding
    assert (x2 - x1 == photo[0]) or (y2 - y1 == photo[1])  # as much of the photo as the aspect allows
    fx1, fy1, fx2, fy2 = report["face"]["largest"]["bbox"]
    assert x1 <= fx1 and fx2 <= x2 and y1 <= fy1 and fy2 <= y2  # around the person


def test_the_face_keeps_its_aspect_on_the_way_to_the_vae_and_the_first_pose_lies_on_it(studio, runs, photos,
                                                                                          drum_music):
    """The face found again in the picture the VAE encoded has the photo face's aspect (a stretch to the square
    canvas of before would change it by a third), and the first skeleton's head lies on it."""
    for name in ("portrait", "landscape"):
        result, vae_input = runs[name]
        assert vae_input.shape == (result.report["height"], result.report["width"], 3)
        in_photo = studio.analyse_face(photos[name]).largest.bbox
        seen = studio.analyse_face(vae_input).largest.bbox  # the tiny canvas is upscaled for detection
        assert aspect(seen) == pytest.approx(aspect(in_photo), rel=0.02), name
        # the same request's dance (deterministic): its first pose's eyes and nose lie in that face
        first = studio.prepare(photos[name], drum_music, GenerationSettings(**FAST)).skeletons.poses[0]
        for joint in ("Nose", "REye", "LEye"):
            x, y = first[J[joint]]
            assert seen[0] <= x <= seen[2] and seen[1] <= y <= seen[3], (name, joint)


def test_a_size_chosen_against_the_photo_is_cropped_not_stretched(studio, photos, drum_music):
    job = studio.prepare(photos["portrait"], drum_music, GenerationSettings(size=(128, 128), **FAST))
    assert (job.skeletons.width, job.skeletons.height) == (128, 128)
    x1, y1, x2, y2 = job.crop.box  # the top of the 3:4 portrait, head room and all; nothing padded
    assert (x1, x2, y2 - y1) == (0, 384, 384) and 0 <= y1 < job.face.largest.bbox[1] - 20
    assert job.reference.size == (384, 384) and not job.crop.padded


def test_a_face_that_fills_the_photo_gives_a_close_up_on_a_padded_reference(studio, astronaut, astro_ref, drum_music):
    x1, y1, x2, y2 = (int(v) for v in astro_ref.largest.bbox)
    selfie = astronaut.crop((x1 + 8, y1 + 8, x2 - 8, y2 - 8)).resize((248, 341), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    selfie.save(buf, "PNG")
    job = studio.prepare(buf.getvalue(), drum_music, GenerationSettings(**FAST))
    assert (job.skeletons.width, job.skeletons.height) == (144, 256)  # 248 x 341 is a portrait
    bx1, by1, bx2, by2 = job.crop.box
    assert (bx1, bx2) == (0, 248) and by1 < 0 and by2 == 341  # the frame reaches above the photo: padded there
    assert any("fills the photo" in w for w in job.warnings) and any("extended at the top" in w for w in job.warnings)
    assert np.array_equal(np.asarray(job.reference)[-by1:], np.asarray(selfie))  # the photo's pixels, unstretched
    nose = job.skeletons.poses[0][J["Nose"]]
    fx1, fy1, fx2, fy2 = (np.asarray(job.face.largest.bbox) - [0, by1, 0, by1]) * 144 / 248
    assert fx1 <= nose[0] <= fx2 and fy1 <= nose[1] <= fy2  # a close-up: the skeleton's head is the face
    assert not job.body.joints_in_frame().all()


def test_detected_body_keypoints_go_through_the_same_crop(tmp_path, photos, drum_music):
    """The real path's DWPose keypoints (its weights are not here, so a stand-in returns a known body): the crop is
    made around them and each detected joint lands on the canvas exactly where its pixel does."""
    from dancegen.pose.detect import BodyKeypoints
    from dancegen.pose.layout import body_from_face

    studio = DanceStudio(StudioConfig(preset="tiny", output_root=str(tmp_path), progress_bar=False))
    standing = body_from_face((170, 60, 250, 170), (384, 512), (384, 512), fit="clip").keypoints  # photo px
    scores = np.full(18, 0.9)
    scores[[J["RAnkle"], J["LAnkle"]]] = 0.0  # below the photo: not detected, filled from proportions

    class StandInDWPose:
        def detect(self, image: np.ndarray) -> BodyKeypoints:
            assert image.shape == (512, 384, 3)  # the upright photo
            return BodyKeypoints(keypoints=standing.copy(), scores=scores.copy(), box=np.array([0, 0, 384, 512.0]))

    studio.body_detector = StandInDWPose()
    job = studio.prepare(photos["portrait"], drum_music, GenerationSettings(**FAST))
    assert job.body.source == "keypoints"
    x1, y1, x2, y2 = job.crop.box
    assert (y1, y2) == (0, 512) and abs((x1 + x2) / 2 - standing[J["Neck"], 0]) <= 1  # centred on the neck
    scale = np.array([144 / (x2 - x1), 256 / (y2 - y1)])
    seen = scores > 0.3
    np.testing.assert_allclose(job.body.keypoints[seen], ((standing - [x1, y1]) * scale)[seen], atol=1e-6)
