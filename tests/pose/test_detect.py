"""The DWPose body detector's pieces (letterbox, YOLOX decoding, SimCC, COCO -> OpenPose-18) and the detector end to
end on stand-in ONNX models."""

from __future__ import annotations

import numpy as np
import pytest
from support.onnx_models import constant_model

from dancegen.pose.layout import BodyLayoutError, body_from_keypoints
from dancegen.pose.topology import JOINTS


def test_simcc_decoding_takes_the_peak_and_the_weaker_maximum():
    from dancegen.pose.detect import simcc_decode

    x = np.zeros((1, 3, 576))
    y = np.zeros((1, 3, 768))
    x[0, 0, 100], y[0, 0, 250] = 0.9, 0.6
    x[0, 1, 575], y[0, 1, 0] = 0.4, 0.8
    x[0, 2] -= 1.0  # no positive response anywhere
    y[0, 2] -= 1.0
    locs, vals = simcc_decode(x, y, 2.0)
    assert locs[0, 0].tolist() == [50.0, 125.0] and vals[0, 0] == pytest.approx(0.6)
    assert locs[0, 1].tolist() == [287.5, 0.0] and vals[0, 1] == pytest.approx(0.4)
    assert locs[0, 2].tolist() == [-0.5, -0.5] and vals[0, 2] == pytest.approx(-1.0)


def test_coco_keypoints_map_to_openpose_order_with_a_neck():
    from dancegen.pose.detect import coco_to_openpose18

    coco_names = ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
                  "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
                  "right_knee", "left_ankle", "right_ankle")
    kps = np.stack([np.arange(133.0), np.zeros(133)], axis=1)  # x = COCO index
    scores = np.full(133, 0.9)
    op, conf = coco_to_openpose18(kps, scores)
    for j, name in enumerate(JOINTS):
        if name == "Neck":
            assert op[j, 0] == pytest.approx((5 + 6) / 2) and conf[j] == 1.0
            continue
        side = {"R": "right_", "L": "left_"}.get(name[0], "")
        base = name[1:].lower() if side else name.lower()
        assert coco_names[int(op[j, 0])] == side + base, name
    scores[5] = 0.2
    assert coco_to_openpose18(kps, scores)[1][1] == 0.0  # a weak shoulder: no neck (DWPose's 0 / 1 neck score)


def test_yolox_decoding_and_person_boxes():
    from dancegen.pose.detect import decode_yolox, letterbox, person_boxes

    raw = np.zeros((8400, 85))
    raw[:, 2:4] = -10.0  # tiny boxes everywhere, with zero scores

    def put(gx, gy, score, cls=0, w=10.0, h=20.0):
        i = gy * 80 + gx  # stride-8 grid comes first, row-major
        raw[i, :4] = (0.5, 0.25, np.log(w), np.log(h))
        raw[i, 4], raw[i, 5 + cls] = 1.0, score

    put(10, 20, 0.9)  # a person: centre (84, 162), 80 x 160 input px
    put(11, 20, 0.8)  # the same person, shifted one cell: suppressed by NMS
    put(60, 60, 0.25)  # too weak
    put(40, 10, 0.95, cls=3)  # not a person
    decoded = decode_yolox(raw, 640)
    assert decoded[20 * 80 + 10, :4].tolist() == pytest.approx([84.0, 162.0, 80.0, 160.0])
    boxes = person_boxes(decoded, ratio=0.5)
    assert boxes.shape == (1, 4)
    assert boxes[0].tolist() == pytest.approx([88.0, 164.0, 248.0, 484.0])  # input px / 0.5
    img = np.full((100, 200, 3), 7, np.uint8)
    batch, r = letterbox(img, 640)
    assert r == pytest.approx(3.2) and batch.shape == (3, 640, 640) and batch.dtype == np.float32
    assert batch[:, :320].max() == 7 and (batch[:, 320:] == 114).all()


def test_body_detector_end_to_end_with_stand_in_models(tmp_path):
    from dancegen.errors import WeightsError
    from dancegen.pose.detect import DETECTOR_FILE, POSE_FILE, BodyDetector

    raw = np.zeros((1, 8400, 85))
    raw[0, :, 2:4] = -10.0
    i = 20 * 80 + 10  # person box centre (84, 162), size 80 x 160 in detector input px
    raw[0, i, :4] = (0.5, 0.25, np.log(10.0), np.log(20.0))
    raw[0, i, 4:6] = 1.0, 0.9
    constant_model(tmp_path / DETECTOR_FILE, "images", [1, 3, 640, 640], {"output": raw})
    sx, sy = np.zeros((1, 133, 576)), np.zeros((1, 133, 768))
    sx[0, 1:, 288], sy[0, 1:, 384] = 0.8, 0.7  # every keypoint at the crop centre...
    sx[0, 0, 288 + 96], sy[0, 0, 384 - 128] = 0.8, 0.7  # ...but the nose, 48 px right and 64 px up in the crop
    constant_model(tmp_path / POSE_FILE, "input", [1, 3, 384, 288], {"simcc_x": sx, "simcc_y": sy})

    detector = BodyDetector.from_folder(tmp_path)
    image = np.zeros((320, 640, 3), np.uint8)  # letterbox ratio 1: detector px = image px
    person = detector.detect(image)
    assert person.box.tolist() == pytest.approx([44.0, 82.0, 124.0, 242.0])
    # crop: box centre (84, 162), size (80, 160) x 1.25 = (100, 200), widened to the model's 0.75 aspect: 150 x 200
    centre = np.array([84.0, 162.0])
    nose = person.keypoints[JOINTS.index("Nose")]
    assert nose.tolist() == pytest.approx((centre + np.array([48.0, -64.0]) * 200 / 384).tolist())
    assert np.allclose(person.keypoints[JOINTS.index("LKnee")], centre)
    assert person.scores[JOINTS.index("Nose")] == pytest.approx(0.7) and person.scores[1] == 1.0
    with pytest.raises(BodyLayoutError):  # all joints but the nose on one spot: no body to size
        body_from_keypoints(person.keypoints, person.scores, (640, 320), (512, 256))
    with pytest.raises(ValueError, match="RGB uint8"):  # a bad picture is our bug, not the user's
        detector.detect(np.zeros((10, 10), np.uint8))
    with pytest.raises(WeightsError, match="nowhere"):
        BodyDetector.from_folder(tmp_path / "nowhere")
