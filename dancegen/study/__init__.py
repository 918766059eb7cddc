"""Studies: many photos x songs x identity settings through the studio, their statistics, and blind A/B review.

Takes folders of photos and music, a grid of identity settings (alpha, identity tokens N) and the studio's
settings; gives a study folder: the videos of every cell, ``results.csv`` (one row per cell, every metric of the
report), ``summary.md`` (paired identity-vs-baseline statistics and the blind review's preference rate) and plots.

* :mod:`.grid`: the cells (a baseline per photo and song, shared by its identity settings), their digests, and the
  split of the pairs over processes;
* :mod:`.table`: report dicts flattened to rows, the per-process part files and their merge into results.csv;
* :mod:`.runner`: runs a process's share of the cells on the studio (resumable; one failing input is recorded);
* :mod:`.stats` and :mod:`.summary`: paired statistics, the review's preference rate, summary.md;
* :mod:`.plots`: identity similarity against alpha and per frame (matplotlib, imported when drawing);
* :mod:`.review`: the blind review's pairs, shuffled sides and SQLite store (the page is in :mod:`dancegen.app`).

A study is a caller of the studio, beside the app and the command line: it imports the studio, never the app or the
command line, and nothing below the studio imports it. Only :mod:`.runner` loads torch.
"""
