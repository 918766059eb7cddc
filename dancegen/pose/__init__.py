"""Pose stage: the OpenPose-18 body and everything drawn or measured from it, but no choreography.

* :mod:`.topology`: joint order, limbs, the joint tree;
* :mod:`.layout`: where the dancer stands at frame 0 (:class:`BodyLayout`), from a face box or detected keypoints;
* :mod:`.detect`: body keypoints of the person in the photo (DWPose, real path);
* :mod:`.extremities`: hands and face synthesised from a body pose (DWPose-style templates);
* :mod:`.render`: skeleton images drawn as StableAnimator's training skeletons were (:class:`SkeletonFrames`).
"""
