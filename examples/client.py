"""Call a running dancegen app from Python: face preview, then generation.

    python examples/client.py http://127.0.0.1:7860 assets/astronaut.png assets/sample_music.wav --seconds 4
"""

import argparse

from gradio_client import Client, handle_file

parser = argparse.ArgumentParser(description="photo + music -> dance videos, through the app's API")
parser.add_argument("url", help="address of the app, e.g. http://127.0.0.1:7860 or a Space name user/space")
parser.add_argument("photo", help="reference photo")
parser.add_argument("music", help="music file")
parser.add_argument("--seconds", type=float, default=4.0, help="how much music to dance to")
parser.add_argument("--steps", type=int, default=None, help="denoising steps (default: the model's)")
parser.add_argument("--fps", type=float, default=8.0)
args = parser.parse_args()

client = Client(args.url, verbose=False)

preview, message = client.predict(photo=handle_file(args.photo), api_name="/face_preview")
print("face preview:", preview)
print("face:", message)

job = dict(photo=handle_file(args.photo), music=handle_file(args.music), length=args.seconds, fps=args.fps)
if args.steps is not None:
    job["steps"] = args.steps
baseline, identity, side_by_side, _plot, similarity, notes = client.predict(**job, api_name="/generate")
print("baseline:", baseline)
print("identity:", identity)
print("side by side:", side_by_side)
print("similarity:", similarity)
print(notes)
