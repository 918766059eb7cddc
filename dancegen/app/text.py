"""Every string the web app shows a person, kept apart from the logic in :mod:`.handlers` and :mod:`.layout`.

Templates use ``str.format`` fields; the field names are part of each template's contract with the handlers.
"""

from ..metrics import BASELINE_NOTE

TITLE = "dancegen: one photo + one song = a dance video"

INTRO = (
    "Upload a photo of one person and a piece of music. The app finds the face, tracks the beats, "
    "choreographs a dance on them and animates the photo twice: a **baseline** without the identity branch "
    "and an **identity** video with it, so you can compare how well each keeps the face."
)

# ------------------------------------------------------------------------------------------------ inputs

PHOTO_LABEL = "Photo (up to {max_file_size})"
MUSIC_LABEL = "Music (up to {max_file_size})"
PHOTO_NAME = "Photo"
MUSIC_NAME = "Music"
OFFSET_LABEL = "Start time in the music (s)"
LENGTH_LABEL = "Length of the dance (s)"
LENGTH_INFO = "At most {max_s:g} s; longer music is trimmed."
ALPHA_LABEL = "Identity strength (alpha)"
ALPHA_INFO = "0 turns the identity branch off; 1 is the trained strength. The baseline always uses 0."
TOKENS_LABEL = "Identity tokens"
TOKENS_INFO = "How many of the face encoder's {count} identity tokens the identity video uses."
SEED_LABEL = "Seed"
SEED_INFO = "Same seed, same dance and same noise."
FRAMING_LABEL = "Framing"
FRAMING_CHOICES = (("Photo's scale", "photo"), ("Whole body in the frame", "whole_body"))
FRAMING_INFO = ("Photo's scale: the skeleton lies on the person, as the model expects; a head-and-shoulders photo "
                "gives a close-up dance. Whole body: shrunk until all of the body fits, for a full dance.")
ADVANCED_LABEL = "Advanced"
STEPS_LABEL = "Denoising steps"
GUIDANCE_LABEL = "Guidance"
FPS_LABEL = "Frames generated per second"
OUTPUT_FPS_LABEL = "Frames per second in the video"
OUTPUT_FPS_INFO = "At least the generated rate: the frames in between are interpolated along the motion."
WIDTH_LABEL = "Width (px)"
HEIGHT_LABEL = "Height (px)"
SIZE_INFO = "Auto: the video takes the photo's shape (portrait, square or landscape)."
SIZE_AUTO = "auto"
SIZE_BOTH = "Choose both the width and the height, or leave both on auto for the photo's shape."
GENERATE_BUTTON = "Generate dance"
STOP_BUTTON = "Stop"
EXAMPLES_LABEL = "Try it: click the example, then Generate"
EXAMPLE_NAME = "Astronaut photo + sample groove"
MOTION_LABEL = "Your own dance, optional: a video, a .zip of OpenPose JSON files or a poses .npy (up to {max_file_size})"
MOTION_NAME = "Motion"
MOTION_FPS_LABEL = "Frames per second of the pose files"
MOTION_FPS_INFO = "OpenPose files and a .npy do not say their rate; a video says its own."
MOTION_NO_DETECTOR = ("this app has no DWPose weights, so it cannot find the poses in a video: upload the poses instead "
                      "(a .zip of OpenPose JSON files, one per frame, or a poses .npy)")

# ---------------------------------------------------------------------------------------------- previews

FACE_PREVIEW_LABEL = "Face used"
FACE_HINT = "Upload a photo of one person with the face visible to see which face will be used."
FACE_TEXT_LABEL = "Face message"
NO_FACE = "**{message}**"
FACE_NOTES = ("{notes} · The picture is the part of the photo the {width}x{height} video shows; the face's aligned "
              "crop is on the right.")

MUSIC_TEXT_LABEL = "Music summary"
MUSIC_HINT = "Upload music (WAV, MP3, OGG, Opus, FLAC or M4A) to see its tempo and beats."
MUSIC_USED = "Using {used} of {total} from {start}; move the start time to pick another part."
MUSIC_PLOT_LABEL = "Energy (blue), onsets (orange), beats (red)"
MUSIC_SUMMARY = (
    "**Tempo** {tempo:.0f} BPM · **Beats** {beats} · **Bars** {bars} ({per_bar}/4 time) · "
    "**Segment** {duration:.1f} s from {offset:.1f} s"
)
CURVE_ENERGY = "energy"
CURVE_ONSETS = "onsets"
CURVE_BEATS = "beats"
PLOT_TIME = "time (s)"
PLOT_LEVEL = "level"
PLOT_CURVE = "curve"

SKELETON_LABEL = "Dance preview"
SKELETON_TEXT_LABEL = "Skeleton message"
SKELETON_NEEDS_MUSIC = "Upload music to preview the dance as a skeleton."
SKELETON_NEEDS_PHOTO = "Upload a photo too: the skeleton is placed on the person in it."
SKELETON_FAILED = "No skeleton preview: {message}"
SKELETON_READY = "The dance as a skeleton: the poses the video will follow, on the beats of the music."

NOTICE = "Note: {text}"

MOTION_TEXT_LABEL = "Motion message"
MOTION_HINT = ("Optional: bring your own dance. Its moves replace the planned ones, fitted to the person in the photo "
               "and moved onto the music's beats; a video with sound can be the music too (leave the music empty).")
MOTION_SUMMARY = "**Motion** {name}: {frames} frames at {fps:g} fps ({seconds:.1f} s), {source}"
MOTION_KINDS = {"video": "its poses found by DWPose", "openpose": "OpenPose poses", "poses": "a pose array"}
MOTION_PEOPLE = " · {count} people seen: one is followed through the frames"
MOTION_SOUND = " · with sound: it is the music when no music is uploaded"
MOTION_PROBLEM = "**{message}**"  # an unusable motion file, beside it
MOTION_NOT_FILE = "the motion must be uploaded as a file"
MOTION_NEEDS_SONG = "{name} holds poses without sound: upload the song to dance to as the music"
MOTION_VIDEO_SILENT = "the dance video {name} has no sound: upload the song to dance to as the music"
MOTION_SOURCE_LABEL = "Your dance's skeleton (left) and the one fitted to the photo (right)"
MUSIC_FROM_VIDEO = "The music is the dance video's own sound. "
SKELETON_MOTION = ("Your dance on the person in the photo, as the video will follow it; below, its source skeleton "
                   "beside the fitted one.")

# ------------------------------------------------------------------------------------------ choreography

CHOREO_LABEL = "Choreography: plan the dance, change its moves, lock phrases"
CHOREO_INTRO = (
    "**Plan the dance** shows the plan in the skeleton preview above and in the table: one row per phrase (8 counts, "
    "or 6 in 3/4 time). Edit a phrase's moves in the table (`move x counts`, comma-separated; `(m)` mirrors a "
    "move; the counts add up to the phrase's) or put a move from the menu into a phrase. Tick **locked** to keep a "
    "phrase when you plan again. **Generate** dances the plan shown."
)
STYLE_LABEL = "Style"
STYLE_AUTO = "auto (from the music)"
STYLE_INFO = "Pop: sharp hits; hip-hop: bounce and the backbeat; Korean: flowing, traditional-inspired."
PLAN_BUTTON = "Plan the dance"
PLAN_TABLE_LABEL = "Phrases"
PLAN_HEADERS = ("#", "time", "section", "moves", "locked")
PLAN_PICK_UP = "{section} (pick-up)"
PLAN_ENDING = "{section} (ending)"
MOVE_LABEL = "Move"
PHRASE_LABEL = "Phrase #"
PUT_BUTTON = "Put the move in the phrase"
PLAN_FILE_LABEL = "choreography.json (the plan shown)"
PLAN_UPLOAD_LABEL = "Load a choreography.json"
PLAN_TEXT_LABEL = "Choreography message"
PLAN_HINT = "Upload the photo and the music, then press Plan the dance."
PLAN_NEEDS_INPUTS = "Upload the photo and the music first: the plan follows the music's beats."
PLAN_MADE = ("Planned {phrases} phrases in the **{style}** style (seed {seed}){kept}. The skeleton preview dances "
             "it; Generate uses it.")
PLAN_KEPT = ", keeping {count} locked phrase(s)"
PLAN_EDITED = "Phrase {number} now dances {moves}; the skeleton preview shows the change."
PLAN_LOADED = "Loaded the plan ({phrases} phrases, {style} style, seed {seed}); Generate uses it."
PLAN_FORGOTTEN = "The music changed, so the plan was for other music: press Plan the dance again."
PLAN_NOT_MADE = "**Not planned:** {message}"
PLAN_NOT_CHANGED = "**Not changed:** {message}"
PLAN_NOT_LOADED = "**Not loaded:** {message}"
PLAN_NONE = "There is no plan yet: press Plan the dance first."
PLAN_FIXED = "phrase {number} is the {kind}: its moves cannot be changed"
PLAN_KINDS = {"intro": "pick-up (the groove before the first downbeat)", "ending": "ending (the final pose)"}
PLAN_BAD_ENTRY = ("phrase {number}: write each move as `name x counts` (e.g. `step_touch x4`, `(m)` to mirror), "
                  "got {text!r}")
PLAN_UNKNOWN_MOVE = "phrase {number}: there is no move {name!r} (the move menu lists them all)"
PLAN_NOT_IN_THREE = "phrase {number}: {name} is not danced in 3/4 time"
PLAN_COUNTS = "phrase {number}: its moves must last {counts} counts in all, got {got}"
PLAN_NO_PHRASE = "there is no phrase {number} (the plan has {count})"
PLAN_MOTION_MADE = ("The motion file **{name}** drives the dance: {segments} stretch(es) of it on the song, {timing}. "
                    "The table shows each stretch of the song and of the motion danced on it; Generate uses it.")
PLAN_MOTION_LOADED = ("Loaded the plan of the motion file **{name}** ({segments} stretch(es), {timing}); Generate "
                      "uses it.")
PLAN_TIMINGS = {"beats": "moved onto the song's beats", "kept": "with the video's own timing"}
PLAN_MOTION_ROW = "motion file"  # the section column of a motion plan's row
PLAN_MOTION_STRETCH = "{name} {start}-{end}"
PLAN_MIRRORED = " (mirrored)"
PLAN_MOTION_FIXED = ("the motion file drives this dance: its stretches cannot be edited here (edit the segments of "
                     "choreography.json and load it)")
PLAN_NEEDS_MOTION = "this choreography dances the motion file {name}: upload it as the motion first"
PLAN_NOT_MOTION = "this choreography dances planned moves, not a motion file: remove the motion upload to use it"
PLAN_FORGOTTEN_MOTION = "The motion file changed, so the plan was for another dance: press Plan the dance again."
SKELETON_PLANNED = "The plan below as a skeleton: the poses the video will follow, on the beats of the music."

# ----------------------------------------------------------------------------------------------- results

BASELINE_LABEL = "Baseline (alpha 0)"
IDENTITY_LABEL = "With the identity branch"
DOWNLOAD_LABEL = "Side by side (mp4)"
AB_CAPTION = ("Both videos dance the same poses from the same noise; the baseline has alpha 0, the identity video "
              "the alpha you chose. " + BASELINE_NOTE)
SIMILARITY_LABEL = "Face similarity to the photo per frame: baseline (blue), identity (red)"
SIMILARITY_TEXT_LABEL = "Similarity summary"
NOTES_LABEL = "Notes"
STATUS_LABEL = "Status"
SIMILARITY_FRAME = "frame"
SIMILARITY_VALUE = "similarity"
SIMILARITY_VIDEO = "video"
SIMILARITY_MEANS = "**Mean similarity to the photo** ({model}): {parts}."
SIMILARITY_PART = "{name} {mean:.2f} (face in {found:.0%} of frames)"
SIMILARITY_NO_FACE_PART = "{name}: no face detected in generated frames"
NO_FACE_IN_GENERATED = "No face detected in generated frames, so there is no similarity to plot."
METRICS_HEADER = "| metric | {videos} |"
METRICS_MISSING = "–"  # a value that was not measured; the notes under the table say why
# report["metrics"]["videos"] row key -> (label, format); {model} is a face recognition model's name
METRIC_ROWS = (
    ("csim_{model}", "Identity similarity to the photo ({model})", "{:.3f}"),
    ("face_rate_{model}", "Frames with a face ({model})", "{:.0%}"),
    ("stability_{model}", "Identity stability, frame to frame ({model})", "{:.3f}"),
    ("beat_alignment_planned", "Beat alignment of the planned dance", "{:.3f}"),
    ("beat_alignment_generated", "Beat alignment of the generated dance (DWPose)", "{:.3f}"),
    ("flicker", "Flicker where the dance is still (grey levels)", "{:.2f}"),
    ("psnr", "PSNR against the ground truth (dB)", "{:.2f}"),
    ("ssim", "SSIM against the ground truth", "{:.3f}"),
    ("lpips", "LPIPS against the ground truth", "{:.3f}"),
)
METRICS_NOTE = "<small>{text}</small>"
RESULT_SUMMARY = (
    "Made {frames} frames ({seconds:.1f} s at {fps:g} fps, {width}x{height}, denoising steps: {steps}), shown at "
    "{output_fps:g} fps, in {total:.1f} s."
)
STATUS_READY = "Ready."
STATUS_QUEUED = "Generating: progress shows on the results below. Stop ends the run within a moment."
STATUS_STOPPING = "Stopping after the current denoising window..."
STATUS_FAILED = "**Not made:** {message}"
STATUS_DONE = "Done. {notes_hint}"
STATUS_DONE_HINT = "The notes below the videos say what was made and anything you should know."
STATUS_NOTHING_TO_STOP = "Nothing is running."
STATUS_STOPPED = "Stopped: generation was cancelled before it finished; nothing was saved."
PROGRESS_PREPARING = "Reading the photo and the music"
PROGRESS = "{stage} {detail} · {elapsed} elapsed, about {remaining} left"
STAGES = {"preparing": "Reading the photo and the music", "encoding": "Encoding the photo and the poses",
          "denoising": "Denoising", "writing": "Writing the videos"}
ESTIMATE_LABEL = "Time estimate"
ESTIMATE = "A run takes about **{time}** here ({frames} frames, {steps} denoising steps; {measured})."
ESTIMATE_CALIBRATED = "from a short measurement of this machine"
ESTIMATE_MEASURED = "from the runs so far"
ESTIMATE_GPU = " On this Space it asks ZeroGPU for **{gpu} s** of GPU time, charged to your daily quota."
GPU_QUOTA = ("This run asks ZeroGPU for {asked} s of GPU time and your quota has {left} s left{retry}. {advice}")
GPU_QUOTA_RETRY = " (it refills in {when})"
GPU_QUOTA_SHORTEN = "Shorten the dance to {seconds:g} s (or use fewer denoising steps or frames per second) and it fits."
GPU_QUOTA_WAIT = ("Even the shortest dance asks for more: try again when it refills, or sign in to Hugging Face for "
                  "a larger daily quota.")
GPU_TOO_LONG = ("ZeroGPU does not run a request this long ({asked} s of GPU time): shorten the dance (each second "
                "of it asks about {per_second} s) or use fewer denoising steps.")

# ---------------------------------------------------------------------------------------- the Space's banner

SPACE_TRAINED = ("This Space runs {label} on {where}. Upload a photo of one person and some music: it plans a dance "
                 "on the beats and animates your photo twice, a baseline without the identity branch and a video "
                 "with it, and measures how well each keeps the face.")
SPACE_UNTRAINED = ("This Space runs the offline demo (the {preset} preset) on {where}, with random weights: the two videos are "
                   "noise, and the similarity plot and table stay empty because no face appears in noise. The "
                   "skeleton dance beside them is the real output: your photo's face found, the music's beats "
                   "tracked and a dance planned on them.")
SPACE_GPU = (" Each run asks ZeroGPU for the GPU time shown under Generate; free visitors have a few minutes a day, "
             "so the page starts with a short dance.")
DANCE_LABEL = "The dance as a skeleton"  # the real output of the untrained demo

# ------------------------------------------------------------------------------------------------ errors

NO_PHOTO = "Please upload a reference photo first."
NO_MUSIC = "Please upload a music file first."
MUSIC_PROBLEM = "**{message}**"  # unusable music, beside it
BAD_NUMBER = "{name} must be a number, got {value!r}."

# ------------------------------------------------------------------------------------------ blind review

GENERATE_TAB = "Generate"
REVIEW_TAB = "Blind review"
REVIEW_TITLE = "dancegen: blind A/B review"
REVIEW_INTRO = (
    "Each pair shows the same dance made twice from the photo above it: once with the identity branch and once "
    "without. The sides are shuffled for every pair and you learn which was which only after you answer. Enter "
    "your name, press **Next pair**, watch both videos, then answer."
)
REVIEWER_LABEL = "Your name"
REVIEWER_PLACEHOLDER = "stored with every answer"
REVIEW_NEXT = "Next pair"
REVIEW_SUBMIT = "Submit answer"
REVIEW_PHOTO_LABEL = "The person (reference photo)"
REVIEW_LEFT = "Left"
REVIEW_RIGHT = "Right"
REVIEW_PERSON_QUESTION = "Which keeps the person better?"
REVIEW_DANCE_QUESTION = "Which dances better? (optional)"
REVIEW_CHOICES = (("Left", "left"), ("Right", "right"), ("About the same", "same"))
REVIEW_START = "Enter your name and press Next pair."
REVIEW_SHOWING = "Pair {number} of {total} for you. Watch both, then answer."
REVIEW_ALL_DONE = (
    "You have judged all {total} pairs this study can show you blind (one per photo and song: another setting of "
    "the same photo and song would show you its baseline again). Thank you!"
)
REVIEW_NO_PAIRS = "This study has no finished pairs to review yet."
REVIEW_NEEDS_PAIR = "Press Next pair first."
REVIEW_REVEAL = (
    "Recorded. The identity video ({setting}) was on the **{identity_side}**, the baseline on the {baseline_side}. "
    "You chose: {choice}. Press Next pair for another."
)
REVIEW_CHOICE_NAMES = {"identity": "the identity video", "baseline": "the baseline", "same": "about the same"}
REVIEW_PROBLEM = "**Not recorded:** {message}"
