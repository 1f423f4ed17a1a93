"""The default mixer: the voice over a music bed that is looped with
equal-power crossfades, set to a level relative to the voice, ducked under
speech (attack/release, look-ahead), faded in and out, then the whole mix taken
to the target loudness under a true-peak limiter."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from vmsg.backends.mix.simple import apply_fades
from vmsg.media.audio import resample, to_channels
from vmsg.media.dynamics import duck_gain, energy_vad, normalize_measured, timeline_vad
from vmsg.types import Phoneme, Soundtrack, Speech


class BroadcastMixer:
    name: ClassVar[str] = "broadcast"
    version = "broadcast-2"

    def __init__(self, *, device: str = "auto") -> None:
        del device

    def stems(self, *, voice: Speech, music: tuple[np.ndarray, int] | None, options: Any
              ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, int]:
        """(voice stem, music stem or None, voice activity per 10 ms frame, lead-in samples) before the master bus."""
        speech, bed, active, lead = self._stems(voice=voice, music=music, options=options, channels=options.channels)
        return to_channels(speech, options.channels), bed, active, lead

    def _stems(self, *, voice: Speech, music: tuple[np.ndarray, int] | None, options: Any, channels: int
               ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, int]:
        """`stems` with the music in `channels` channels and the voice left mono."""
        rate = options.sample_rate
        lead, tail = int(round(options.lead_in * rate)), int(round(options.tail * rate))
        speech = np.pad(resample(voice.samples, voice.sample_rate, rate), (lead, tail)).astype(np.float32)
        total = len(speech)
        n_frames = total // int(rate * 0.01) + 1
        if options.duck_source == "energy" or (options.duck_source == "auto" and not voice.timeline):
            active = energy_vad(speech, rate)
            active = np.pad(active, (0, max(0, n_frames - len(active))))[:n_frames]
        else:
            active = timeline_vad(voice.timeline, n_frames, offset_s=lead / rate)
        if music is None:
            return speech, None, active, lead
        needed = int(np.ceil(total * music[1] / rate)) + int(options.loop_crossfade * music[1]) + 64
        bed = to_channels(resample(music[0][:needed], music[1], rate), channels)
        crossfade = int(options.loop_crossfade * rate)
        if len(bed) < total and crossfade:
            bed = bed[: loop_point(bed, rate) + crossfade]
        bed = loop_to_length(bed, total, crossfade)
        bed = bed * np.float32(_bed_ratio(speech, active, bed, options.music_gain_db))
        if options.duck:
            gain = duck_gain(active, total, rate, depth_db=options.duck_depth_db, attack_ms=options.duck_attack_ms,
                             release_ms=options.duck_release_ms)
            bed = bed * (gain[:, None] if bed.ndim == 2 else gain)
        bed = apply_fades(bed, rate, options.fade_in, options.fade_out)
        return speech, bed.astype(np.float32), active, lead

    def mix(self, *, voice: Speech, music: tuple[np.ndarray, int] | None, options: Any) -> Soundtrack:
        """The master bus runs in mono when the music is mono (the library's is): a stereo
        output is then dual mono, built at the end, measured as two channels all along."""
        rate = options.sample_rate
        mono_bus = music is None or music[0].ndim == 1 or music[0].shape[1] == 1
        bus_channels = 1 if mono_bus else options.channels
        speech, bed, _, lead = self._stems(voice=voice, music=music, options=options, channels=bus_channels)
        speech = to_channels(speech, bus_channels)
        out = speech if bed is None else speech + bed
        out, level = normalize_measured(out, rate, target_lufs=options.effective_lufs, true_peak_db=options.true_peak_db,
                                        copies=options.channels if mono_bus else 1)
        out = to_channels(out, options.channels)
        shift = lead / rate
        timeline = tuple(Phoneme(p.symbol, p.start + shift, p.end + shift) for p in voice.timeline)
        if lead and timeline:
            timeline = (Phoneme("sil", 0.0, shift), *timeline)
        meta = {"mix_engine": self.name, "voice_offset": shift, "lufs": round(level, 2)}
        return Soundtrack(out, rate, timeline, voice.timeline_source, meta)


def _bed_ratio(speech: np.ndarray, active: np.ndarray, bed: np.ndarray, gain_db: float) -> float:
    """Gain that puts the music `gain_db` under the voice: the voice's RMS over its
    active frames against the music's RMS over the whole bed."""
    frame = len(speech) // max(1, len(active))
    n = min(len(active), len(speech) // frame) if frame else 0
    power = np.square(speech[: n * frame].reshape(n, frame), dtype=np.float64).sum(axis=1) if n else np.zeros(0)
    on = active[:n]
    voice_rms = float(np.sqrt(power[on].sum() / (on.sum() * frame))) if on.any() else 0.0
    bed_rms = float(np.sqrt(np.mean(np.square(bed, dtype=np.float64)))) if bed.size else 0.0
    if voice_rms <= 0 or bed_rms <= 0:
        return 10 ** (gain_db / 20.0)
    return voice_rms / bed_rms * 10 ** (gain_db / 20.0)


def loop_point(bed: np.ndarray, rate: int, match_s: float = 2.0, min_corr: float = 0.6) -> int:
    """Where the music should jump back to its start: the position in its second half
    whose next `match_s` seconds have the loudness pattern (beats, bars) most like the
    first ones, so the loop keeps the rhythm. The whole length when nothing matches."""
    from vmsg.media.dynamics import frame_rms_db

    env, hop = frame_rms_db(bed, rate)
    n = len(env)
    k = min(int(match_s / 0.01), n // 4)
    if k < 50:  # under 2 s of music: nothing to choose from
        return len(bed)
    head = env[:k] - env[:k].mean()
    windows = np.lib.stride_tricks.sliding_window_view(env, k)[n // 2 : n - k + 1]
    centred = windows - windows.mean(axis=1, keepdims=True)
    denom = np.linalg.norm(centred, axis=1) * np.linalg.norm(head) + 1e-9
    corr = centred @ head / denom
    best = int(np.argmax(corr))
    if corr[best] < min_corr:
        return len(bed)
    return min(len(bed), (n // 2 + best) * hop)


def loop_to_length(bed: np.ndarray, n: int, crossfade: int) -> np.ndarray:
    """Repeat `bed` to `n` samples; each joint is an equal-power crossfade of
    `crossfade` samples from the end of one pass into the start of the next, so
    the waveform stays continuous (no click) whatever the loop point."""
    if len(bed) >= n:
        return bed[:n]
    crossfade = max(0, min(crossfade, len(bed) // 4))
    if not crossfade:
        return np.concatenate([bed] * -(-n // len(bed)))[:n].astype(np.float32)
    body = bed[: len(bed) - crossfade]
    theta = np.linspace(0.0, np.pi / 2, crossfade, dtype=np.float32)
    fade_in, fade_out = np.sin(theta), np.cos(theta)
    if bed.ndim == 2:
        fade_in, fade_out = fade_in[:, None], fade_out[:, None]
    # Each later pass starts with the joint: the tail fading out into the head fading in.
    period = body.copy()
    period[:crossfade] = bed[-crossfade:] * fade_out + bed[:crossfade] * fade_in
    reps = -(-(n - len(body)) // len(period))
    return np.concatenate([body, *[period] * reps])[:n].astype(np.float32)
