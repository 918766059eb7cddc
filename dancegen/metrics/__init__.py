"""Metrics stage: numbers about generated videos and planned motion.

* :mod:`.identity`: face similarity of generated frames to the reference photo (offline face models);
* :mod:`.motion`: beat alignment, foot sliding, bone-length variation and framing of a pose sequence.
"""
