"""Facts about a voice clip, from the bytes of its WAV file: format, length, loudness, silence.

One reading of a clip serves the voice generator (which normalises loudness to
:data:`TARGET_ACTIVE_DBFS`), ``kiosk voice check`` (a county's recordings) and the tests. A
clip is judged on 20 ms frames: a frame is *active* when its RMS level is above
:data:`SILENCE_DBFS`; loudness is the RMS over the active frames only, so pauses between
sentences do not make a clip look quiet. Pure: bytes in, numbers out.
"""

from __future__ import annotations

import io
import math
import struct
import sys
import wave
from array import array
from dataclasses import dataclass
from typing import Any

FRAME_SECONDS = 0.02
SILENCE_DBFS = -50.0  # a 20 ms frame quieter than this is silence (room noise of a recording)
TARGET_ACTIVE_DBFS = -20.0  # loudness of the shipped clips (RMS over active frames)
PEAK_CEILING_DBFS = -1.0
MIN_SECONDS = 0.3
MAX_SECONDS = 30.0
MIN_ACTIVE_SECONDS = 0.2
MAX_LEAD_SECONDS = 1.0  # a resident waiting longer than this thinks the kiosk said nothing
LOUDNESS_TOLERANCE_DB = 6.0
RATES = (16_000, 22_050, 24_000, 32_000, 44_100, 48_000)
_FULL_SCALE = 32768.0


class WavError(ValueError):
    """Not a WAV file the kiosk can play (the message says what it is instead)."""


@dataclass(frozen=True)
class WavFacts:
    """What :func:`analyse_wav` found. Levels in dBFS (0 = full scale; -inf for silence)."""

    channels: int
    sample_width: int  # bytes per sample
    rate: int  # frames per second
    frames: int
    peak_dbfs: float
    active_dbfs: float  # RMS over the active 20 ms frames
    active_seconds: float
    lead_seconds: float  # silence before the first active frame
    tail_seconds: float  # silence after the last active frame

    @property
    def seconds(self) -> float:
        return self.frames / self.rate if self.rate else 0.0


def dbfs(level: float) -> float:
    """*level* (0..1 of full scale) in dB; -inf for 0."""
    return 20 * math.log10(level) if level > 0 else -math.inf


def read_samples(data: bytes) -> tuple[Any, array]:
    """The parameters and the samples (16-bit, channels averaged to mono) of a PCM WAV.

    Raises :class:`WavError` for anything but 16-bit PCM (compressed, 8/24/32-bit, not WAV).
    """
    try:
        with wave.open(io.BytesIO(data)) as clip:
            params = clip.getparams()
            raw = clip.readframes(params.nframes)
    except (wave.Error, EOFError, RuntimeError, ValueError, struct.error) as exc:
        # RuntimeError: the stdlib's chunk reader on a truncated or corrupt chunk
        raise WavError(f"not a PCM WAV file ({str(exc) or type(exc).__name__})") from None
    if params.sampwidth != 2:
        raise WavError(f"{params.sampwidth * 8}-bit samples; the kiosk plays 16-bit PCM")
    if params.nchannels not in (1, 2):
        raise WavError(f"{params.nchannels} channels; the kiosk plays mono or stereo")
    samples = array("h")
    samples.frombytes(raw[: len(raw) - len(raw) % 2])
    if sys.byteorder == "big":
        samples.byteswap()
    if params.nchannels == 2:
        samples = array(
            "h", ((a + b) // 2 for a, b in zip(samples[::2], samples[1::2], strict=False))
        )
    return params, samples


def frame_levels(samples: array, rate: int) -> list[float]:
    """RMS level (0..1 of full scale) of each 20 ms frame."""
    size = max(1, int(rate * FRAME_SECONDS))
    levels = []
    for start in range(0, len(samples), size):
        frame = samples[start : start + size]
        levels.append(math.sqrt(sum(s * s for s in frame) / len(frame)) / _FULL_SCALE)
    return levels


def analyse_wav(data: bytes) -> WavFacts:
    """Format, length, peak, loudness and silences of the WAV file *data* (see module doc)."""
    params, samples = read_samples(data)
    levels = frame_levels(samples, params.framerate)
    gate = 10 ** (SILENCE_DBFS / 20)
    active = [i for i, level in enumerate(levels) if level > gate]
    frame = FRAME_SECONDS
    if active:
        energy = sum(levels[i] ** 2 for i in active) / len(active)
        active_dbfs = dbfs(math.sqrt(energy))
        lead = active[0] * frame
        tail = max(0.0, params.nframes / params.framerate - (active[-1] + 1) * frame)
    else:
        active_dbfs, lead, tail = -math.inf, params.nframes / params.framerate, 0.0
    peak = max((abs(s) for s in samples), default=0) / _FULL_SCALE
    return WavFacts(
        channels=params.nchannels,
        sample_width=params.sampwidth,
        rate=params.framerate,
        frames=params.nframes,
        peak_dbfs=dbfs(peak),
        active_dbfs=active_dbfs,
        active_seconds=len(active) * frame,
        lead_seconds=lead,
        tail_seconds=tail,
    )


@dataclass(frozen=True)
class ClipVerdict:
    """``errors``: the kiosk must not use the clip; ``warnings``: it may, but should not."""

    errors: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


def judge_clip(data: bytes) -> tuple[WavFacts | None, ClipVerdict]:
    """Read and judge one clip: format, length (≥ 0.3 s), not silent, loudness near the shipped
    clips', no long silence before the voice, no clipping."""
    try:
        facts = analyse_wav(data)
    except WavError as exc:
        return None, ClipVerdict((str(exc),), ())
    errors, warnings = [], []
    if facts.rate not in RATES:
        errors.append(f"{facts.rate} Hz; use one of {', '.join(map(str, RATES))} Hz")
    if facts.seconds < MIN_SECONDS:
        errors.append(f"{facts.seconds:.2f} s long; a prompt is at least {MIN_SECONDS} s")
    if facts.seconds > MAX_SECONDS:
        errors.append(f"{facts.seconds:.1f} s long; a prompt is at most {MAX_SECONDS:.0f} s")
    if facts.active_seconds < MIN_ACTIVE_SECONDS:
        errors.append(f"silent (no sound above {SILENCE_DBFS:.0f} dBFS)")
    else:
        off = facts.active_dbfs - TARGET_ACTIVE_DBFS
        if abs(off) > LOUDNESS_TOLERANCE_DB:
            louder = "louder" if off > 0 else "quieter"
            warnings.append(
                f"{abs(off):.0f} dB {louder} than the built-in voice "
                f"({facts.active_dbfs:.1f} dBFS; aim for {TARGET_ACTIVE_DBFS:.0f} dBFS)"
            )
        if facts.lead_seconds > MAX_LEAD_SECONDS:
            warnings.append(f"{facts.lead_seconds:.1f} s of silence before the voice")
    if facts.peak_dbfs > -0.1:
        warnings.append("reaches full scale (may be clipped)")
    return facts, ClipVerdict(tuple(errors), tuple(warnings))
