"""Training stage: dance clips in; trained identity-branch weights out (the face encoder and the identity
projections, optionally the pose net and the UNet's attention layers), in the folder layout the models load.

* :mod:`.data`: the clip folder format, checking clips, and the seeded stream of training samples;
* :mod:`.objective`: SVD's denoising objective as StableAnimator trains with it (noise levels, EDM
  preconditioning, the face-weighted loss, conditioning dropout);
* :mod:`.step`: one micro-step: frozen encoders, noise, the networks being trained, the loss;
* :mod:`.checkpoint`: resumable checkpoints, written atomically;
* :mod:`.trainer`: the loop, with Accelerate (devices, mixed precision, accumulation, several processes);
* :mod:`.prepare`: raw dance videos -> clip folders (DWPose poses, face embedding and boxes).

Below the studio, the app and the command line; it uses the models, pipeline, pose, face and io stages.
"""
