"""Dance styles: weighted pools of moves per energy level, where a style hits, and the default style of a song.

* "pop": commercial pop / K-pop: sharp, hits on counts 1, 4, 5 and 8 (and strong onsets), step patterns, point moves, turns.
* "hiphop": groove: bounce on every count, knees soft, weight low, hits on the backbeat (2, 4, 6, 8).
* "korean": Korean traditional-inspired: flowing arms, bent knees, heel steps, slow turns; only the phrase's first
  count stops, the rest flows through.

:func:`default_style` picks one from the music: triple meter or a slow tempo -> "korean", a strong bass at a
groove tempo -> "hiphop", else "pop".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..music import MusicAnalysis


@dataclass(frozen=True)
class Style:
    pools: tuple[dict[str, float], dict[str, float], dict[str, float]]  # calm, medium, loud: move -> weight
    backbeat: tuple[int, ...]  # counts of the 8-count (0 = "1") that are hits (sharp stops) in duple meter
    onset_hits: bool  # counts on a strong onset are hits
    flow: bool  # every count but the phrase's first flows through (overrides the two above)


STYLES: dict[str, Style] = {
    "pop": Style(pools=(
        {"sway": 1.2, "step_touch": 1.2, "body_roll": 1.0, "shoulder_shimmy": 0.8, "arm_wave": 1.0, "clap": 0.8,
         "head_nod": 0.6, "walk": 0.8, "hip_roll": 0.8, "reach": 0.8, "quarter_turn": 0.6, "box_step": 0.8},
        {"step_touch": 1.0, "grapevine": 1.2, "box_step": 1.0, "arm_wave": 1.0, "clap": 0.8, "reach": 1.0,
         "point_pose": 1.0, "quarter_turn": 1.0, "pivot_turn": 0.8, "chasse": 1.0, "hip_roll": 0.7,
         "kick_ball_change": 0.8, "frame": 0.8, "disco": 0.7, "lunge_reach": 0.8, "body_roll": 0.6,
         "chest_pop": 0.5, "squat": 0.6},
        {"grapevine": 1.0, "chasse": 1.0, "pivot_turn": 1.0, "chaine": 1.0, "lunge_reach": 1.0, "rise_jack": 1.0,
         "point_pose": 0.8, "pump": 0.8, "squat": 0.9, "knee_lift": 0.8, "frame": 0.8, "disco": 0.7,
         "arm_wave": 0.6, "kick_ball_change": 0.7, "quarter_turn": 0.6, "chest_pop": 0.5, "reach": 0.6},
    ), backbeat=(3, 7), onset_hits=True, flow=False),
    "hiphop": Style(pools=(
        {"bounce": 1.5, "two_step": 1.2, "head_nod": 1.0, "wop": 0.8, "cabbage_patch": 0.8, "chest_pump": 0.6,
         "shuffle": 0.6, "up_rock": 0.7, "quarter_turn": 0.5, "walk": 0.6},
        {"two_step": 1.0, "running_man": 1.0, "charleston": 1.0, "cabbage_patch": 0.9, "wop": 0.9,
         "roger_rabbit": 0.9, "kick_step": 0.9, "tutting": 0.9, "shuffle": 0.9, "chest_pump": 0.6,
         "freeze": 0.5, "pump_up": 0.7, "knee_drop": 0.6, "quarter_turn": 0.6, "up_rock": 0.7, "bounce": 0.6},
        {"running_man": 1.0, "kick_step": 1.0, "knee_drop": 1.0, "pump_up": 1.0, "tutting": 0.8, "freeze": 0.6,
         "roger_rabbit": 0.8, "shuffle": 0.9, "pivot_turn": 0.8, "charleston": 0.8, "pump": 0.8, "chest_pump": 0.5,
         "squat": 0.7, "chaine": 0.5},
    ), backbeat=(1, 3, 5, 7), onset_hits=True, flow=False),
    "korean": Style(pools=(
        {"gulsin": 1.5, "jeongjungdong": 1.0, "palsawi": 1.2, "didimsae": 1.2, "rise_fall": 0.8, "sway": 0.8,
         "dolgi": 0.6, "plie": 0.8},
        {"gulsin": 1.0, "palsawi": 1.2, "didimsae": 1.2, "dolgi": 1.0, "scarf_fling": 1.0, "plie": 1.0,
         "rise_fall": 0.8, "balance": 0.6, "jeongjungdong": 0.5, "arm_wave": 0.4},
        {"didimsae": 1.2, "scarf_fling": 1.2, "dolgi": 1.0, "palsawi": 1.0, "plie": 1.0, "gulsin": 0.8,
         "pivot_turn": 0.5, "balance": 0.6, "waltz_box": 0.5, "reach": 0.4},
    ), backbeat=(), onset_hits=False, flow=True),
}


def _bass_share(music: MusicAnalysis) -> float:
    """Share of the waveform's energy below 150 Hz (0..1), from one FFT of up to 30 s of the samples."""
    y = np.asarray(music.samples, dtype=np.float64).reshape(-1)[: int(30 * music.sr)]
    if y.size < 1024:
        return 0.0
    spec = np.abs(np.fft.rfft(y)) ** 2
    freqs = np.fft.rfftfreq(y.size, 1.0 / music.sr)
    total = float(spec[freqs > 20].sum())
    return float(spec[(freqs > 20) & (freqs < 150)].sum() / total) if total > 0 else 0.0


def default_style(music: MusicAnalysis) -> str:
    """The style a choreographer would pick for this music: triple meter or slower than 84 BPM -> "korean"; a bass
    carrying more than 45 % of the energy at 84..125 BPM (a groove tempo) -> "hiphop"; else "pop"."""
    tempo = float(music.tempo_bpm or 0.0)
    if int(music.beats_per_bar or 4) == 3 or 0 < tempo < 84:
        return "korean"
    if 84 <= tempo <= 125 and _bass_share(music) > 0.45:
        return "hiphop"
    return "pop"
