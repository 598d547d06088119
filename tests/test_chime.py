"""The help chime's sound data: a valid WAV, no click at the start, two audible tones."""

import io
import wave

from kiosk.domain.chime import DING_DONG, PEAK, SAMPLE_RATE, Tone, chime_samples, chime_wav


def _crossings(samples: list[int]) -> int:
    return sum(1 for a, b in zip(samples, samples[1:], strict=False) if (a < 0) != (b < 0))


def test_chime_is_a_mono_16_bit_wav_of_the_tones_length():
    with wave.open(io.BytesIO(chime_wav())) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, SAMPLE_RATE)
        seconds = wav.getnframes() / wav.getframerate()
    assert abs(seconds - max(t.start_s + t.length_s for t in DING_DONG)) < 0.01


def test_chime_peaks_below_full_scale_and_starts_silently():
    samples = chime_samples()
    assert max(abs(s) for s in samples) == round(PEAK * 32767)
    assert abs(samples[0]) == 0 and max(abs(s) for s in samples[:20]) < 0.2 * 32767


def test_the_two_tones_are_the_configured_pitches():
    """Zero crossings over a window give the frequency: the ding before the dong starts, the
    dong alone after the ding has ended."""
    samples = chime_samples()
    ding = samples[: int(0.3 * SAMPLE_RATE)]
    dong = samples[int(0.56 * SAMPLE_RATE) : int(0.86 * SAMPLE_RATE)]
    assert abs(_crossings(ding) / 2 / 0.3 - DING_DONG[0].frequency_hz) < 10
    assert abs(_crossings(dong) / 2 / 0.3 - DING_DONG[1].frequency_hz) < 10


def test_a_single_tone_can_be_rendered_at_another_rate():
    samples = chime_samples((Tone(440.0, 0.0, 0.5),), rate=8000)
    assert len(samples) == 4000
    assert abs(_crossings(samples) / 2 / 0.5 - 440) < 5
