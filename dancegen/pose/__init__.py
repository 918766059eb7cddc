"""Pose stage: a face box or keypoints in; the OpenPose-18 body, the part of the photo the canvas shows, skeleton
images out; everything drawn or measured from a body, but no choreography.

* :mod:`.topology`: joint order, limbs, the joint tree;
* :mod:`.layout`: where the dancer stands at frame 0 (:class:`BodyLayout`), from a face box or detected keypoints;
* :mod:`.reference`: the canvas's shape for a photo, and the crop of the photo it shows (never stretched);
* :mod:`.detect`: body keypoints of the person in the photo (DWPose, real path);
* :mod:`.extremities`: hands and face synthesised from a body pose (DWPose-style templates);
* :mod:`.render`: skeleton images drawn as StableAnimator's training skeletons were (:class:`SkeletonFrames`).
"""
