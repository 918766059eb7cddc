"""dancegen web app: ``python app.py`` (tiny offline preset) or ``python app.py --preset stableanimator --weights DIR``.

Everything lives in :mod:`dancegen.app.serve`; this file is what Hugging Face Spaces and the README start.
"""

import sys

from dancegen.app.serve import main

if __name__ == "__main__":
    sys.exit(main())
