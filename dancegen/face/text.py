"""Every sentence the face stage tells a person about their photo (a :class:`~dancegen.face.FaceResult`'s notes),
kept apart from the analysis in :mod:`.analyser`.

Templates use ``str.format`` fields; the field names are part of each template's contract with the analyser.
"""

LARGE_PHOTO = ("large photo ({width}x{height}); faces were found on a {copy_width}x{copy_height} copy "
               "and the face used was taken from the original")
SMALL_PHOTO = "small photo ({width}x{height}); upscaled x{factor:.1f} before face detection"
FACE_FILLS_PHOTO = "the face fills the photo; it was found on a copy extended at the borders"
SMALL_FACE = "the face is only {width:.0f} px wide; a closer photo will keep the identity better"
UNSURE_DETECTOR = "the face detector is unsure (score {score:.2f}); check that the green box is a face"
ONE_FACE = "1 face found (boxed in green); it is used"
SEVERAL_FACES = "{count} faces found; the largest (boxed in green) is used"


def faces_note(count: int) -> str:
    """The note that says how many faces the photo shows and which one is used."""
    return ONE_FACE if count == 1 else SEVERAL_FACES.format(count=count)
