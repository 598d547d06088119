"""The help chime as sound data: a soft two-tone "ding-dong" in a 16-bit mono WAV.

Generated rather than shipped as a binary so its pitch and length are reviewable here. Each
tone is a sine with a few milliseconds of attack (no click) and an exponential decay, loud
enough to be heard across a service point's hall without startling anyone.
"""

from __future__ import annotations

import io
import math
import struct
import wave
from dataclasses import dataclass

SAMPLE_RATE = 22_050
PEAK = 0.6  # of full scale: leaves headroom for the two tones' overlap
ATTACK_S = 0.008


@dataclass(frozen=True)
class Tone:
    frequency_hz: float
    start_s: float
    length_s: float
    decay_per_s: float = 5.0


# E6 then C6 — a major third down, the doorbell interval people read as "attention, not alarm".
DING_DONG = (Tone(1318.5, 0.0, 0.55), Tone(1046.5, 0.32, 0.9))


def chime_samples(tones: tuple[Tone, ...] = DING_DONG, rate: int = SAMPLE_RATE) -> list[int]:
    """Signed 16-bit samples of *tones* mixed; the loudest sample is PEAK of full scale."""
    length = max(t.start_s + t.length_s for t in tones)
    mixed = [0.0] * int(length * rate)
    for tone in tones:
        first = int(tone.start_s * rate)
        for n in range(int(tone.length_s * rate)):
            t = n / rate
            envelope = min(1.0, t / ATTACK_S) * math.exp(-tone.decay_per_s * t)
            mixed[first + n] += envelope * math.sin(2 * math.pi * tone.frequency_hz * t)
    loudest = max(abs(s) for s in mixed) or 1.0
    return [round(s / loudest * PEAK * 32767) for s in mixed]


def chime_wav(tones: tuple[Tone, ...] = DING_DONG, rate: int = SAMPLE_RATE) -> bytes:
    """The chime as a complete WAV file (PCM, mono, 16 bit, *rate* Hz)."""
    samples = chime_samples(tones, rate)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    return buffer.getvalue()
