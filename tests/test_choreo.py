"""Choreography: body layout, beat-synced poses and their measured quality (beat alignment, feet, bones, framing).

End-to-end tests synthesise music with known beats (tests/audio_synth.py), analyse it with dancegen.music and
score the dance against the true beats.
"""

from __future__ import annotations

import numpy as np
import pytest
from audio_synth import synth_track

from dancegen import choreo, music
from dancegen.choreo import (
    JOINTS,
    LIMBS,
    BodyLayoutError,
    ChoreographyError,
    ProceduralChoreographer,
    beat_alignment_score,
    body_from_face,
    body_from_keypoints,
    bone_length_variation,
    foot_sliding_px,
    fraction_inside,
    planted_mask,
    retarget_to_body,
)

FPS = 25.0
W = H = 512
SR = 22050
# (tempo or tempo map, meter, style): several tempos and meters, one half-time tempo, one tempo change
TRACKS = [
    (120.0, 4, "drums"),
    (96.0, 3, "chords"),
    (152.0, 4, "drums"),
    (74.0, 4, "chords"),
    ([(0.0, 100.0), (15.0, 128.0)], 4, "clicks"),
]


def _synthetic_music(beats, duration, bpb=4, rms=None, downbeat_offset=0):
    """A MusicAnalysis built directly from a beat grid (no audio analysis); rms(t) -> 0..1 envelope."""
    beats = np.asarray(beats, dtype=np.float64)
    frames = np.arange(0.0, duration, 512 / SR)
    env = np.full(frames.shape, 0.8) if rms is None else np.asarray(rms(frames), dtype=np.float64)
    index = (np.arange(beats.size) - downbeat_offset) % bpb
    return music.MusicAnalysis(
        path="", sr=SR, samples=np.zeros(int(duration * SR), np.float32), offset_s=0.0, duration_s=float(duration),
        tempo_bpm=60.0 / float(np.median(np.diff(beats))) if beats.size > 1 else 0.0, beats_s=beats,
        downbeats_s=beats[index == 0], beats_per_bar=bpb, beat_index_in_bar=index.astype(np.int64),
        frame_times_s=frames, onset_strength=np.zeros(frames.shape, np.float32), rms=env.astype(np.float32),
        local_tempo_bpm=np.zeros(frames.shape, np.float32))


@pytest.fixture(scope="module")
def body():
    # a full-length standing person in a square photo, head near the top: the arms have little room above
    return body_from_face((230, 60, 282, 122), (1024, 1024), (W, H))


@pytest.fixture(scope="module")
def roomy_body():
    return body_from_face((490, 300, 534, 352), (1024, 1024), (W, H))


@pytest.fixture(scope="module")
def analysed():
    """[(MusicAnalysis, true beat times)] for 30-s synthetic tracks."""
    out = []
    for bpm, meter, style in TRACKS:
        samples, beats, _ = synth_track(bpm, 30.0, sr=SR, meter=meter, style=style)
        out.append((music.analyse_samples(samples, SR), beats))
    return out


@pytest.fixture(scope="module")
def dances(analysed, body):
    dancer = ProceduralChoreographer()
    return [dancer(m, FPS, 0, body) for m, _ in analysed]


# ------------------------------------------------------------------------------------------------ constants


def test_joint_order_and_limbs_form_a_tree_rooted_at_the_neck():
    assert JOINTS[:5] == ("Nose", "Neck", "RShoulder", "RElbow", "RWrist") and JOINTS[-1] == "LEar"
    assert len(JOINTS) == 18 and len(LIMBS) == 17
    children = [b for _, b in LIMBS]
    assert sorted(children) == sorted(set(range(18)) - {1})  # every joint but the neck has exactly one parent
    seen = {1}
    for a, b in LIMBS:  # parents are reached before their children in drawing order
        assert a in seen
        seen.add(b)


# ------------------------------------------------------------------------------------------------ layout


def test_body_from_face_places_a_standing_body_under_the_face():
    # a tall photo with a small face: the whole body fits at the photo's scale
    box = (450.0, 100.0, 550.0, 220.0)
    lay = body_from_face(box, (1000, 1500), (512, 768))
    s = 512 / 1000
    k = lay.keypoints
    assert lay.fit_scale == 1.0 and lay.notices == () and lay.y_stretch == pytest.approx(1.0)
    nose = k[JOINTS.index("Nose")]
    assert box[0] * s < nose[0] < box[2] * s and box[1] * s < nose[1] < box[3] * s
    assert nose[0] == pytest.approx(500 * s)
    head = 120 / 0.833 * s
    assert lay.head_height == pytest.approx(head, rel=1e-3)
    # ankles about 7.25 head heights below the crown (crown = top of the face box minus 0.167 heads)
    crown = 100 * s - 0.167 * head
    for name in ("RAnkle", "LAnkle"):
        assert k[JOINTS.index(name), 1] == pytest.approx(crown + 7.25 * head, abs=1.0)
    # the person faces the camera: their right side is image-left; the body is symmetric about the face
    assert k[JOINTS.index("RShoulder"), 0] < nose[0] < k[JOINTS.index("LShoulder"), 0]
    assert np.allclose(k[[2, 3, 4, 8, 9, 10], 0] + k[[5, 6, 7, 11, 12, 13], 0], 2 * nose[0])
    assert fraction_inside(k[None], 512, 768) == 1.0
    assert lay.bone_lengths.shape == (17,) and (lay.bone_lengths > 0).all()


def test_body_from_face_shrinks_a_body_that_does_not_fit_and_says_so():
    lay = body_from_face((300, 500, 700, 900), (1000, 1000), (512, 512))  # selfie-sized face, low in the frame
    assert lay.fit_scale < 0.5 and lay.notices and "fit" in lay.notices[0]
    margin = max(4.0, 0.02 * 512)
    assert (lay.keypoints >= margin - 1e-6).all() and (lay.keypoints <= 511 - margin + 1e-6).all()
    clipped = body_from_face((300, 500, 700, 900), (1000, 1000), (512, 512), fit="clip")
    assert clipped.fit_scale == 1.0 and fraction_inside(clipped.keypoints[None], 512, 512) < 1.0


def test_body_from_face_follows_a_plain_resize_of_a_photo_with_another_aspect():
    box = (900.0, 100.0, 1000.0, 220.0)
    lay = body_from_face(box, (2000, 1500), (512, 512), fit="clip")  # photo squashed horizontally
    sx, sy = 512 / 2000, 512 / 1500
    assert lay.y_stretch == pytest.approx(sy / sx)
    nose = lay.keypoints[JOINTS.index("Nose")]
    assert nose[0] == pytest.approx(950 * sx)
    assert nose[1] == pytest.approx((100 + 0.58 * 120) * sy)


@pytest.mark.parametrize("box, image, canvas", [
    ((10, 10, 5, 50), (100, 100), (64, 64)),  # x1 < x0
    ((10, 10, 50, 50), (0, 100), (64, 64)),  # empty photo
    ((10, 10, 50, 50), (100, 100), (8, 64)),  # canvas too small
    ((200, 200, 250, 250), (100, 100), (64, 64)),  # outside the photo
    ((np.nan, 10, 50, 50), (100, 100), (64, 64)),
])
def test_body_from_face_rejects_bad_input(box, image, canvas):
    with pytest.raises(BodyLayoutError):
        body_from_face(box, image, canvas)
    assert issubclass(BodyLayoutError, ValueError)


def test_body_from_keypoints_keeps_detected_joints_and_fills_missing_ones():
    ref = body_from_face((400, 100, 480, 200), (1000, 1400), (1000, 1400), fit="clip").keypoints
    kps, conf = ref.copy(), np.full(18, 0.9)
    missing = [JOINTS.index(n) for n in ("RWrist", "LElbow", "LWrist", "RAnkle", "REar")]
    kps[missing] = np.nan
    conf[missing[:3]] = 0.1
    conf[missing[3:]] = 0.0
    kps[JOINTS.index("LElbow")] = (5.0, 5.0)  # low confidence: ignored even though finite
    lay = body_from_keypoints(kps, conf, (1000, 1400), (500, 700))
    assert lay.source == "keypoints" and lay.fit_scale == 1.0
    assert np.allclose(lay.keypoints, ref * 0.5, atol=1e-6)  # the detected body is a standing template

    # a raised arm is kept as detected; the missing forearm continues from the detected elbow
    kps2 = ref.copy()
    kps2[JOINTS.index("RElbow")] = ref[JOINTS.index("RShoulder")] + (-80.0, -120.0)
    kps2[JOINTS.index("RWrist")] = np.nan
    conf2 = np.ones(18)
    conf2[JOINTS.index("RWrist")] = 0.0
    lay2 = body_from_keypoints(kps2, conf2, (1000, 1400), (1000, 1400), fit="clip")
    assert np.allclose(lay2.keypoints[JOINTS.index("RElbow")], kps2[JOINTS.index("RElbow")])
    forearm = ref[JOINTS.index("RWrist")] - ref[JOINTS.index("RElbow")]
    assert np.allclose(lay2.keypoints[JOINTS.index("RWrist")], kps2[JOINTS.index("RElbow")] + forearm, atol=1e-6)


def test_body_from_keypoints_mirrors_the_fill_for_a_person_seen_from_behind():
    ref = body_from_face((400, 100, 480, 200), (1000, 1400), (1000, 1400), fit="clip").keypoints
    mirrored = ref.copy()
    mirrored[:, 0] = 880 - ref[:, 0]  # right side now image-right
    conf = np.ones(18)
    conf[JOINTS.index("LAnkle")] = 0.0
    lay = body_from_keypoints(mirrored, conf, (1000, 1400), (1000, 1400), fit="clip")
    assert np.allclose(lay.keypoints, mirrored, atol=1e-6)


def test_body_from_keypoints_needs_enough_joints():
    with pytest.raises(BodyLayoutError):
        body_from_keypoints(np.zeros((18, 2)), np.zeros(18), (100, 100), (64, 64))
    with pytest.raises(BodyLayoutError):
        body_from_keypoints(np.zeros((17, 2)), np.ones(17), (100, 100), (64, 64))


# ------------------------------------------------------------------------------------------------ metrics


def _oscillation(period_s, seconds, fps, amplitude=50.0):
    """All joints moving as x = A (1 - cos(2 pi t / P)) / 2: speed minima every P / 2."""
    t = np.arange(int(seconds * fps)) / fps
    x = amplitude * (1 - np.cos(2 * np.pi * t / period_s)) / 2
    poses = np.zeros((t.size, 18, 2))
    poses[..., 0] = 100 + x[:, None] + np.arange(18)[None] * 5
    poses[..., 1] = 100 + np.arange(18)[None] * 10
    return poses


def test_beat_alignment_score_rewards_motion_that_stops_on_the_beats():
    poses = _oscillation(1.0, 10.0, 30.0)
    on = np.arange(0.5, 9.6, 0.5)  # speed minima at multiples of 0.5 s
    assert beat_alignment_score(poses, 30.0, on) > 0.95
    assert beat_alignment_score(poses, 30.0, on + 0.25) < 0.1  # a quarter period off: far from every minimum
    assert beat_alignment_score(poses, 30.0, on + 0.05) == pytest.approx(np.exp(-0.5), abs=0.05)
    assert beat_alignment_score(poses, 30.0, []) == 0.0


def test_foot_sliding_counts_planted_ankles_only():
    still = np.tile(_oscillation(1.0, 2.0, 30.0)[:1], (60, 1, 1))
    still[:, JOINTS.index("RAnkle")] = (200.0, 400.0)
    still[:, JOINTS.index("LAnkle")] = (260.0, 400.0)
    still[:, [JOINTS.index("RHip"), JOINTS.index("LHip")], 1] = 200.0
    still[:, [JOINTS.index("RKnee"), JOINTS.index("LKnee")], 1] = 300.0
    assert foot_sliding_px(still) == 0.0
    sliding = still.copy()
    sliding[:, JOINTS.index("RAnkle"), 0] += 0.5 * np.arange(60)  # planted but gliding 0.5 px per frame
    assert foot_sliding_px(sliding) == pytest.approx(0.25, abs=1e-6)  # mean over both planted ankles
    lifted = still.copy()
    lifted[:, JOINTS.index("RAnkle"), 1] -= 40.0  # in the air: its motion is not sliding
    lifted[:, JOINTS.index("RAnkle"), 0] += 3.0 * np.arange(60)
    assert foot_sliding_px(lifted) == 0.0
    assert planted_mask(lifted)[:, 1].all() and not planted_mask(lifted)[:, 0].any()


def test_bone_length_variation_and_fraction_inside():
    poses = np.repeat(body_from_face((230, 60, 282, 122), (512, 512), (512, 512)).keypoints[None], 5, axis=0)
    assert bone_length_variation(poses) < 1e-9
    stretched = poses.copy()
    wrist, elbow = JOINTS.index("RWrist"), JOINTS.index("RElbow")
    stretched[2, wrist] = poses[2, elbow] + 1.05 * (poses[2, wrist] - poses[2, elbow])
    assert bone_length_variation(stretched) == pytest.approx(0.05, rel=1e-3)
    outside = poses.copy()
    outside[1, 0] = (-1.0, 10.0)
    outside[2, 3] = (10.0, 512.0)
    assert fraction_inside(outside, 512, 512) == pytest.approx(1 - 2 / 90)


# ------------------------------------------------------------------------------------------------ dances


def test_dances_hit_the_beats_of_synthetic_tracks(analysed, dances, body):
    scores = [beat_alignment_score(p, FPS, beats) for p, (_, beats) in zip(dances, analysed, strict=True)]
    # the same dances scored against beats shifted by half a beat: a real alignment, not dense minima
    off = [beat_alignment_score(p, FPS, (beats[1:] + beats[:-1]) / 2)
           for p, (_, beats) in zip(dances, analysed, strict=True)]
    assert np.mean(scores) >= 0.5, scores  # real dance (AIST++) scores about 0.24 with this metric
    assert min(scores) >= 0.4, scores
    assert np.mean(scores) > np.mean(off) + 0.2, (scores, off)
    # at the app's default 8 fps a frame lasts 125 ms, and the dance still lands on the beats
    dancer = ProceduralChoreographer()
    slow = [beat_alignment_score(dancer(m, 8.0, 0, body), 8.0, beats) for m, beats in analysed]
    assert np.mean(slow) >= 0.5, slow


def test_dances_keep_feet_planted_bones_rigid_and_joints_in_frame(body, dances):
    any_lift = False
    for poses in dances:
        assert poses.dtype == np.float32 and poses.shape[1:] == (18, 2)
        assert foot_sliding_px(poses) < 1.0
        assert planted_mask(poses).mean() > 0.5  # the sliding measure is not vacuous: feet are mostly planted
        assert bone_length_variation(poses) < 0.01
        assert fraction_inside(poses, W, H) == 1.0
        assert np.allclose(poses[0], body.keypoints, atol=1e-3)  # frame 0 is the reference pose
        # one foot at a time: never both ankles above their standing height
        ankles_y = poses[:, [JOINTS.index("RAnkle"), JOINTS.index("LAnkle")], 1]
        lifted = ankles_y < body.keypoints[[JOINTS.index("RAnkle"), JOINTS.index("LAnkle")], 1] - 0.5
        assert not lifted.all(axis=1).any()
        any_lift = any_lift or bool(lifted.any())
    assert any_lift  # feet do leave the ground (steps, knee lifts)
    # somewhere the dancer actually steps (an ankle travels more than half a head height)
    travel = max(np.ptp(p[:, [JOINTS.index("RAnkle"), JOINTS.index("LAnkle")], 0], axis=0).max() for p in dances)
    assert travel > 0.5 * body.head_height


def test_a_30_second_dance_varies(analysed, body):
    m = analysed[0][0]
    dancer = ProceduralChoreographer()
    poses = dancer(m, FPS, 0, body)
    plan = dancer.plan(m, 0, body, (poses.shape[0] - 1) / FPS)
    starts = plan.phrase_starts_s[plan.phrase_starts_s < 30.0]
    length = int(round(np.median(np.diff(starts)) * FPS))
    phrases = [poses[int(round(s * FPS)): int(round(s * FPS)) + length] for s in starts]
    phrases = [p - p.mean(axis=(0, 1)) for p in phrases if len(p) == length]  # without global translation
    assert len(phrases) >= 4
    for i in range(len(phrases)):
        for j in range(i + 1, len(phrases)):
            assert np.abs(phrases[i] - phrases[j]).max() > 5.0, (i, j)
    names = {mv.name for mv in plan.moves if mv.start_s < 30.0}
    assert len(names) >= 4, names
    # a visible range: wrists travel over more than 1.5 head heights vertically, the head tilts and the hips move
    wrists = poses[:, [JOINTS.index("RWrist"), JOINTS.index("LWrist")], 1]
    assert np.ptp(wrists, axis=0).max() > 1.5 * body.head_height
    hips = poses[:, [JOINTS.index("RHip"), JOINTS.index("LHip")]].mean(axis=1)
    assert np.ptp(hips[:, 0]) > 0.2 * body.head_height and np.ptp(hips[:, 1]) > 0.1 * body.head_height


def test_movement_follows_the_music_energy(roomy_body):
    samples, beats, _ = synth_track(120.0, 40.0, sr=SR, style="drums")
    quiet = np.arange(samples.size) / SR < 20.0
    m = music.analyse_samples(samples * np.where(quiet, 0.12, 1.0).astype(np.float32), SR)
    dancer = ProceduralChoreographer()
    poses = dancer(m, FPS, 0, roomy_body)
    speed = np.linalg.norm(np.diff(poses, axis=0), axis=-1).mean(axis=1)  # [T-1] px / frame
    quiet_speed, loud_speed = speed[50:475].mean(), speed[525:975].mean()
    assert loud_speed > 2.0 * quiet_speed, (quiet_speed, loud_speed)
    calm = set(choreo.POOLS[0])
    plan = dancer.plan(m, 0, roomy_body, 40.0)
    early = [mv.name for mv in plan.moves if 1.0 < mv.start_s and mv.end_s < 19.0]
    assert early and set(early) <= calm | {"bounce"}, early


def test_deterministic_per_seed_and_different_across_seeds_and_songs(analysed, body, dances):
    dancer = ProceduralChoreographer()
    m0, m1 = analysed[0][0], analysed[3][0]
    again = dancer(m0, FPS, 0, body)
    assert np.array_equal(again, dances[0])
    other_seed = dancer(m0, FPS, 1, body)
    assert np.abs(other_seed - dances[0]).max() > 20.0
    n = min(len(dances[0]), len(dances[3]))
    other_song = dancer(m1, FPS, 0, body)
    assert np.abs(other_song[:n] - dances[0][:n]).max() > 20.0


def test_frame_count_and_frame_times(body):
    beats = 0.3 + 0.5 * np.arange(40)
    m = _synthetic_music(beats, 20.0)
    dancer = ProceduralChoreographer()
    assert dancer(m, 24.0, 0, body).shape == (480, 18, 2)
    assert dancer(m, 10.0, 0, body, n_frames=7).shape == (7, 18, 2)
    long = dancer(m, 10.0, 0, body, n_frames=300)  # past the end of the music: beats continue
    assert long.shape == (300, 18, 2) and np.ptp(long[-60:], axis=0).max() > 5.0
    # frame t is at t / fps: the speed minima sit on the beats at any frame rate (beats on 0.1 s multiples)
    for fps in (10.0, 30.0):
        poses = dancer(m, fps, 0, body)
        assert beat_alignment_score(poses, fps, beats, smooth_s=0.0) > 0.9


def test_a_detected_pose_with_raised_arm_starts_the_dance(analysed):
    ref = body_from_face((230, 60, 282, 122), (512, 512), (512, 512)).keypoints.copy()
    ref[JOINTS.index("RElbow")] = ref[JOINTS.index("RShoulder")] + (-30.0, -45.0)
    ref[JOINTS.index("RWrist")] = ref[JOINTS.index("RElbow")] + (5.0, -50.0)
    lay = body_from_keypoints(ref, np.ones(18), (512, 512), (512, 512))
    poses = ProceduralChoreographer()(analysed[0][0], FPS, 3, lay)
    assert np.allclose(poses[0], ref, atol=1e-3)
    assert np.abs(poses[1] - poses[0]).max() < 10.0  # no jump after the first frame
    assert bone_length_variation(poses) < 0.01 and fraction_inside(poses, W, H) == 1.0
    assert foot_sliding_px(poses) < 1.0


def test_a_body_that_fills_the_canvas_still_dances_inside_it(analysed):
    lay = body_from_face((200, 2, 312, 140), (512, 512), (512, 512))  # big head at the very top
    poses = ProceduralChoreographer()(analysed[1][0], FPS, 0, lay)
    assert fraction_inside(poses, W, H) == 1.0
    assert np.ptp(poses, axis=0).max() > 0.3 * lay.head_height  # still moving


def test_a_close_up_keeps_head_and_shoulders_in_frame_and_lets_the_arms_move(analysed):
    """At the photo's scale a head-and-shoulders photo leaves hips and legs below the frame: the head, neck and
    shoulders stay inside, while the arms may swing out of the picture and back (held inside they would barely
    move at this scale)."""
    # the sample astronaut's face box: elbows just inside the frame, wrists, hips and legs below it
    lay = body_from_face((180, 60, 272, 180), (512, 512), (W, H), fit="clip")
    for name, seen in (("RElbow", 1.0), ("LElbow", 1.0), ("RWrist", 0.0), ("RHip", 0.0)):
        assert fraction_inside(lay.keypoints[None, [JOINTS.index(name)]], W, H) == seen, name
    poses = ProceduralChoreographer()(analysed[0][0], FPS, 0, lay)
    kept = [JOINTS.index(n) for n in ("Nose", "Neck", "RShoulder", "LShoulder", "REye", "LEye", "REar", "LEar")]
    assert fraction_inside(poses[:, kept], W, H) == 1.0
    wrists = poses[:, [JOINTS.index("RWrist"), JOINTS.index("LWrist")]]
    assert np.ptp(wrists[..., 1], axis=0).min() > 1.5 * lay.head_height  # the hands go up and down
    assert bone_length_variation(poses) < 0.01
    # the moves are ones that show above the waist: no squats, knee lifts, side steps or hip shifts
    for m, _ in analysed:
        names = {move.name for move in ProceduralChoreographer().plan(m, 0, lay, 30.0).moves}
        assert names and not names & {"squat", "knee_lift", "step_touch", "hip_shift"}, names


def test_silence_or_missing_beats_still_gives_a_dance(body):
    m = _synthetic_music([], 8.0, rms=lambda t: np.zeros_like(t))
    poses = ProceduralChoreographer()(m, FPS, 0, body)
    assert poses.shape == (200, 18, 2) and np.isfinite(poses).all()
    assert np.ptp(poses, axis=0).max() > 2.0 and fraction_inside(poses, W, H) == 1.0


def test_bad_arguments_raise_clear_errors(body):
    m = _synthetic_music(0.5 * np.arange(10), 5.0)
    with pytest.raises(ChoreographyError):
        ProceduralChoreographer()(m, 0.0, 0, body)
    with pytest.raises(ChoreographyError):
        ProceduralChoreographer()(m, 25.0, 0, body, n_frames=0)
    with pytest.raises(ChoreographyError):
        retarget_to_body(np.zeros((4, 17, 2)), body)


def test_retarget_keeps_the_motion_and_uses_the_reference_bones(analysed, body):
    source = ProceduralChoreographer()(analysed[0][0], FPS, 5, body)[:200].astype(np.float64)
    scaled = source * 1.7 + np.array([40.0, -25.0])  # another skeleton size and place, same motion
    out = retarget_to_body(scaled, body)
    assert np.allclose(out, source, atol=1e-2)
    assert np.allclose(out[0], body.keypoints, atol=1e-3)
    assert bone_length_variation(out) < 1e-4


# ------------------------------------------------------------------------------------------------ DWPose pieces


def test_simcc_decoding_takes_the_peak_and_the_weaker_maximum():
    from dancegen.body import simcc_decode

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
    from dancegen.body import coco_to_openpose18

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
    from dancegen.body import decode_yolox, letterbox, person_boxes

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


def _constant_model(path, in_name, in_shape, outputs):
    """An ONNX model that ignores its input and returns constant arrays (stand-in for the DWPose weights)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, outs = [], []
    for name, value in outputs.items():
        nodes.append(helper.make_node("Constant", [], [name], value=numpy_helper.from_array(
            value.astype(np.float32), name=name + "_value")))
        outs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(value.shape)))
    graph = helper.make_graph(nodes, "constant", [helper.make_tensor_value_info(in_name, TensorProto.FLOAT, in_shape)],
                              outs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))


def test_body_detector_end_to_end_with_stand_in_models(tmp_path):
    from dancegen.body import DETECTOR_FILE, POSE_FILE, BodyDetector, BodyModelError

    raw = np.zeros((1, 8400, 85))
    raw[0, :, 2:4] = -10.0
    i = 20 * 80 + 10  # person box centre (84, 162), size 80 x 160 in detector input px
    raw[0, i, :4] = (0.5, 0.25, np.log(10.0), np.log(20.0))
    raw[0, i, 4:6] = 1.0, 0.9
    _constant_model(tmp_path / DETECTOR_FILE, "images", [1, 3, 640, 640], {"output": raw})
    sx, sy = np.zeros((1, 133, 576)), np.zeros((1, 133, 768))
    sx[0, 1:, 288], sy[0, 1:, 384] = 0.8, 0.7  # every keypoint at the crop centre...
    sx[0, 0, 288 + 96], sy[0, 0, 384 - 128] = 0.8, 0.7  # ...but the nose, 48 px right and 64 px up in the crop
    _constant_model(tmp_path / POSE_FILE, "input", [1, 3, 384, 288], {"simcc_x": sx, "simcc_y": sy})

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
    with pytest.raises(BodyModelError):
        detector.detect(np.zeros((10, 10), np.uint8))
    with pytest.raises(BodyModelError):
        BodyDetector.from_folder(tmp_path / "nowhere")
