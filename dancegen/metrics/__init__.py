"""Metrics stage: numbers about generated videos and planned motion. Takes generated frames (streamed chunk by
chunk), the reference face, the poses and the music's beats (and optionally a ground-truth video); gives the
``metrics`` dict of report.json.

* :mod:`.identity`: face similarity of generated frames to the reference photo (CSIM) and frame-to-frame stability;
* :mod:`.motion`: beat alignment, foot sliding, bone-length variation and framing of a pose sequence, and poses
  re-detected in generated frames;
* :mod:`.dance`: dance-level measures of a pose sequence (both beat alignment variants, beat precision, speeds in
  body heights / s, hands up, travel, level range, turns, section repetition, distinct moves): ``dance_metrics``;
* :mod:`.quality`: temporal flicker where the dance does not move; PSNR / SSIM / LPIPS against a ground truth;
* :mod:`.report`: all of them for every video of a generation, and the report's layout below.

``report["metrics"]`` of ``DanceStudio.generate`` (report.json), one flat row per video for tables::

    "baseline_note": BASELINE_NOTE (below)
    "face_models":   recognition models that judged identity, the offline one first:
                     ["w600k_mbf"] (offline MobileFaceNet), + "glintr100" (antelopev2) on the real path
    "scored_frames": [int]   frame indices scored for identity (up to 32, evenly spaced, first and last)
    "videos": {"baseline": ROW, "identity": ROW}   (the videos made: one of them in a single-video mode)
    "per_frame": {video: {"csim_<model>": [float | None] per scored frame (None: no face in it),
                          "stability_<model>": [float | None] per pair of consecutive scored frames}}
    "notes": [str]   why a value is missing (no ground truth, no DWPose, no LPIPS backbone, ...): never a silent 0

    ROW (None = not measured; "notes" says why):
      csim_<model>             mean cosine similarity of the face in the scored frames to the photo's face
      face_rate_<model>        fraction of scored frames where that model's detector found a face (misses count)
      stability_<model>        mean cosine similarity of the faces of consecutive scored frames (drift over time)
      beat_alignment_planned   beat alignment (Bailando-style) of the planned poses; the same for both videos
      beat_alignment_generated beat alignment of poses re-detected in every generated frame (DWPose; real path)
      body_rate                fraction of frames where the body was re-detected (DWPose; real path)
      flicker                  mean |frame t - frame t-1| in grey levels over still pixels (quality.py says which)
      still_fraction           fraction of pixels (over all frame pairs) that counted as still
      flicker_output           the same flicker over the written video at the output rate (in-between frames
                               included; every other metric is of the generated frames)
      psnr, ssim               per-frame mean against the ground truth (torchmetrics), with --ground-truth only
      lpips                    LPIPS (AlexNet) against the ground truth, only when its backbone weights are here
      gt_frames                frames compared with the ground truth (None without one)
"""

# The recognition model that judges identity in every report, whatever the path (the offline MobileFaceNet): its
# row keys csim_<model>, face_rate_<model> and stability_<model> are always there.
OFFLINE_JUDGE = "w600k_mbf"

# What the A/B baseline is, in one sentence (README, the app's A/B caption, study summaries).
BASELINE_NOTE = ("The baseline is the same model with the identity branch switched off at inference (alpha 0): "
                 "with StableAnimator's weights the UNet was trained with that branch, so this is an inference-time "
                 "ablation, not the paper's baseline (a model trained without the branch).")
