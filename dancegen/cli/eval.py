"""``dancegen eval --photos DIR --music DIR --alphas 0,1 --id-tokens 1,4 --out DIR``: an A/B study of the identity
branch, every photo x song x setting, into a study folder (results.csv, summary.md, plots/, videos/).

The baseline of each photo and song is made once and shared by its identity settings. A rerun skips the finished
cells; a failing input is recorded and the rest go on. Under ``accelerate launch -m dancegen eval ...`` every process
makes its share and the main process merges the results. ``dancegen eval --summarise DIR`` only writes summary.md
and the plots again (for instance after a blind review with ``dancegen review DIR``).

The other flags are the studio's and the request's settings (:mod:`dancegen.config`), shared by every cell.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ..config import GenerationSettings, StudioConfig, add_arguments, check_seconds, from_arguments
from ..errors import SettingsError, UserError
from . import ArgumentParser, logged_to_file, run

LOGS = "logs"  # each process's lines, in the study folder (logs/process-<index>.log)
PER_CELL = ("alpha", "id_tokens", "mode")  # request settings that the grid sets per cell
NOT_FOR_STUDIES = ("on_no_face",)  # a photo without a face is a failed cell of a study


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="dancegen eval",
                       description="an A/B study: every photo x song x identity setting -> results.csv, summary.md, "
                                   "plots and videos in one folder")
    p.add_argument("--photos", metavar="DIR", help="folder of reference photos (or one photo)")
    p.add_argument("--music", metavar="DIR", help="folder of music files (or one file)")
    p.add_argument("--alphas", default="0,1", metavar="A,B,...",
                   help="identity strengths to compare, comma-separated (alpha 0 is the baseline; the baseline of "
                        "every photo and song is made in any case) (default: 0,1)")
    p.add_argument("--id-tokens", dest="token_counts", default="", metavar="N,M,...",
                   help="identity token counts, comma-separated (default: all the face encoder makes)")
    p.add_argument("--out", metavar="DIR", help="the study folder (made; a rerun continues it)")
    p.add_argument("--baseline-weights", metavar="DIR",
                   help="a second checkpoint folder whose videos are the baselines (e.g. a base trained without the "
                        "identity branch), made with the same noise and poses")
    p.add_argument("--summarise", metavar="DIR", help="only write summary.md and the plots of this study folder "
                                                       "again (nothing is generated)")
    add_arguments(p, StudioConfig, skip=NOT_FOR_STUDIES)
    add_arguments(p, GenerationSettings, skip=PER_CELL)
    return p


def numbers(text: str, kind: Callable[[str], float], flag: str) -> list:
    """``"0,0.5,1"`` -> [0.0, 0.5, 1.0]; SettingsError naming the flag for anything else."""
    values = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            values.append(kind(part))
        except ValueError:
            raise SettingsError(f"{flag} must be numbers separated by commas, got {text!r}") from None
    return values


def _summarise(folder: Path) -> int:
    from ..study.review import study_folder  # no torch
    from ..study.summary import write_summary
    from ..study.table import PARTS, merge

    if (folder / PARTS).is_dir():
        merge(folder)  # rows of a run that stopped before its merge
    study_folder(folder)  # UserError when it is not one

    for path in write_summary(folder):
        print(path)
    return 0


def _eval(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    if args.summarise:
        return _summarise(Path(args.summarise))
    missing = [flag for flag, value in (("--photos", args.photos), ("--music", args.music), ("--out", args.out))
               if not value]
    if missing:
        raise UserError(f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} needed (or --summarise DIR)")
    alphas = numbers(args.alphas, float, "--alphas")
    tokens = numbers(args.token_counts, int, "--id-tokens") or [None]
    if not alphas:
        raise SettingsError("--alphas needs at least one value")
    for alpha in alphas:
        GenerationSettings(alpha=alpha)  # the same range as everywhere (SettingsError)
    for n in tokens:
        GenerationSettings(id_tokens=n)
    base = from_arguments(GenerationSettings, args)
    config = from_arguments(StudioConfig, args, progress_bar=False)
    check_seconds(base, config.max_music_s)
    baseline = None
    if args.baseline_weights:
        baseline = from_arguments(StudioConfig, args, progress_bar=False, weights_dir=args.baseline_weights)

    from ..study.grid import MUSIC_SUFFIXES, PHOTO_SUFFIXES, input_files, make_plan

    photos = input_files(args.photos, PHOTO_SUFFIXES, "photo")
    music = input_files(args.music, MUSIC_SUFFIXES, "music")
    plan = make_plan(photos, music, alphas, tokens, base, config, baseline)

    from ..study.runner import Studios, processes, run_study, with_device  # torch loads from here on
    from ..study.summary import write_summary

    procs = processes(config.device)
    config = with_device(config, procs)
    baseline = None if baseline is None else with_device(baseline, procs)
    studios = Studios(config, baseline)

    out = Path(args.out)
    log_path = out / LOGS / f"process-{procs.index}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "a", encoding="utf-8") as log_file, \
            logged_to_file("dancegen.study.runner") as (_, error_path):

        def log(line: str) -> None:
            """One line to stderr (in one write: the processes share it) and to this process's log file."""
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
            log_file.write(line + "\n")
            log_file.flush()

        log(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} process {procs.index} of {procs.count}")
        outcome = run_study(plan, out, studios, procs, log=log, summarise=write_summary)
        who = f"process {procs.index}: " if procs.count > 1 else ""
        log(f"{who}made {outcome.made}, failed {outcome.failed}, already done {outcome.skipped}")
        if outcome.failed:
            log(f"{who}failed cells are listed in results.csv and summary.md (tracebacks of our own errors: "
                f"{error_path})")
        if outcome.missing:
            log(f"{len(outcome.missing)} of {outcome.cells} cells have no result (a process stopped early?): run "
                "the same command again to make them")
    for path in outcome.written:  # the main process's files
        print(path)
    if outcome.missing:
        return 1
    if procs.index == 0 and not finished(out):
        raise UserError(f"no cell of the study could be made: the reasons are in {out / 'summary.md'} and "
                        f"{out / 'results.csv'}")
    return 0


def finished(folder: Path) -> bool:
    """Whether the study folder holds at least one finished cell (made now or by an earlier run)."""
    from ..study.table import OK, all_rows

    table = all_rows(folder)
    return not table.empty and bool((table["status"] == OK).any())


def main(argv: Sequence[str] | None = None) -> int:
    """``dancegen eval ...`` -> the exit status:

    * 0: the study folder holds finished cells (some cells may have failed: results.csv and summary.md say why);
    * 2: bad input or flags, or no cell of the study could be made at all (the reasons are in summary.md and
      results.csv); one ``error:`` line;
    * 3: out of memory outside a cell;
    * 1: our own bug (logged with its traceback), or cells without a result (a process stopped early: run again);
    * 130: stopped by Ctrl-C or SIGTERM.
    """
    return run(lambda: _eval(sys.argv[1:] if argv is None else argv), "dancegen eval")
