"""clone: the same words and timing in the voice of 1–5 reference clips or a saved profile.

Also the profile life cycle (`create_profile`) and `speak_as`, which synth calls
when a profile is named as the voice. Heavy imports stay inside functions: the
recipe loader imports this module.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, model_validator

from vmsg.backends.clone import VOICE_CONVERTERS
from vmsg.errors import InputError
from vmsg.media.audio import read_audio, rms_dbfs
from vmsg.stages.options import DeviceName, StageOptions
from vmsg.types import Speech

log = logging.getLogger(__name__)

MIN_REFERENCE_SECONDS = 3.0
MAX_REFERENCES = 5
SILENCE_DBFS = -50.0
CLIP_TOP = 0.98
CLIP_MAX_FRACTION = 0.0005
"""Clipped: more than 0.05 % of the samples are flat tops (equal neighbours within 2 % of the peak)."""


class CloneOptions(StageOptions):
    engine: str = "world"
    references: list[str] = Field(default_factory=list, description="1–5 clips of the target voice")
    profile: str | None = Field(None, description="a saved voice profile (vmsg clone create); instead of references")
    strength: float = Field(1.0, ge=0.0, le=1.5, description="world engine: 0 = unchanged, 1 = all the way to the reference")
    openvoice_url: str = Field("http://127.0.0.1:8001", description="openvoice engine: the service's base URL")
    timeout: float = Field(60.0, gt=0, le=600, description="openvoice engine: seconds to wait for one conversion")
    tau: float = Field(0.3, ge=0.0, le=1.0, description="openvoice engines: sampling temperature of the converter")
    openvoice_dir: str | None = Field(None, description="openvoice-local: folder with config.json and checkpoint.pth")
    device: DeviceName = "auto"

    @model_validator(mode="after")
    def _one_source(self) -> "CloneOptions":
        if self.profile and self.references:
            raise ValueError("give either a profile or reference clips, not both")
        return self


def clip_problem(samples: np.ndarray, rate: int) -> str | None:
    """Why a clip cannot serve as a reference (too short, silent, clipped), or None."""
    seconds = len(samples) / rate
    if seconds < MIN_REFERENCE_SECONDS:
        return f"{seconds:.1f} s is too short (at least {MIN_REFERENCE_SECONDS:.0f} s)"
    level = rms_dbfs(samples)
    if level < SILENCE_DBFS:
        return f"silent (level {level:.0f} dBFS)"
    flat = clipped_fraction(samples)
    if flat > CLIP_MAX_FRACTION:
        return f"clipped ({flat * 100:.2f} % of the samples are flat tops at full level); record it again at a lower level"
    return None


def clipped_fraction(samples: np.ndarray) -> float:
    """Share of samples on flat tops: neighbours equal (to 1e-6) and within 2 % of the peak."""
    a = np.abs(samples)
    peak = float(a.max()) if a.size else 0.0
    if peak < 0.1:
        return 0.0
    top = a >= CLIP_TOP * peak
    flat = top[:-1] & top[1:] & (np.abs(np.diff(samples)) <= 1e-6)
    return float(flat.sum()) / len(samples)


def load_references(paths: list[str | Path]) -> list[tuple[np.ndarray, int]]:
    """Read and check reference clips: 1–5, each at least 3 s, not silent, not clipped."""
    if not paths:
        raise InputError("clone needs at least one reference clip")
    if len(paths) > MAX_REFERENCES:
        raise InputError(f"clone takes at most {MAX_REFERENCES} reference clips, got {len(paths)}")
    clips = []
    for path in paths:
        samples, rate = read_audio(path, what="reference clip")
        problem = clip_problem(samples, rate)
        if problem:
            raise InputError(f"reference clip {path}: {problem}")
        clips.append((samples, rate))
    return clips


def _engine(options: CloneOptions):
    name = VOICE_CONVERTERS.check(options.engine)
    settings: dict[str, Any] = {"device": options.device}
    if name == "world":
        settings["strength"] = options.strength
    elif name == "openvoice":
        settings.update(url=options.openvoice_url, timeout=options.timeout, tau=options.tau)
    elif name == "openvoice-local":
        settings.update(model_dir=options.openvoice_dir, tau=options.tau)
    return VOICE_CONVERTERS.instance(name, **settings)


def load_profile(name: str):
    from vmsg.profiles import ProfileStore

    return ProfileStore().load(name)


def clone(speech: Speech, options: CloneOptions) -> Speech:
    """Convert `speech` toward the profile or reference clips; the timeline is kept as is."""
    profile = load_profile(options.profile) if options.profile else None
    references = [] if profile is not None else load_references(options.references)
    engine = _engine(options)
    result = engine.convert(speech=speech, references=references, profile=profile)
    if len(result.samples) != len(speech.samples):
        raise InputError(f"clone engine {options.engine} changed the length of the speech")
    return result.with_audio(result.samples, clone_engine=options.engine, clone_engine_version=engine.version,
                             clone_profile=profile.id if profile is not None else None)


def speak_as(engine, text: str, *, profile_name: str, voice: str | None, speed: float) -> Speech:
    """Synthesise `text` in a profile's voice ("cloned synth"): with Kokoro, the stock style and
    conversion strength chosen for the profile when it was made; other engines are converted
    fully. The WORLD conversion keeps the timeline exact."""
    profile = load_profile(profile_name)
    strength = 1.0
    if getattr(engine, "name", None) == "kokoro" and profile.style is not None:
        speech = engine.synthesize(text=text, voice=voice, speed=speed, style=profile.style)
        strength = float(profile.facts.get("strength", 1.0))
    else:
        speech = engine.synthesize(text=text, voice=voice, speed=speed)
    if strength > 0:
        converter = VOICE_CONVERTERS.instance("world", device="cpu", strength=strength)  # WORLD is CPU-only, whatever synth ran on
        speech = converter.convert(speech=speech, references=[], profile=profile)
    return speech.with_audio(speech.samples, voice_profile=profile.id, clone_strength=strength)


def create_profile(name: str, paths: list[str | Path], *, store=None, choose_voice: bool = True):
    """Analyse 1–5 clips into a saved profile under `name`. Same clips again → the same profile
    (only the alias is added, nothing is re-analysed)."""
    from vmsg.backends.clone.world import voice_stats
    from vmsg.profiles import ProfileStore, VoiceProfile, check_name, clip_digest, profile_id
    from vmsg.speaker import embed, half_split_similarity, mean_embedding

    store = store or ProfileStore()
    check_name(name)
    clips = load_references(paths)
    digests = [clip_digest(s, r) for s, r in clips]
    if len(set(digests)) != len(digests):
        dupes = [str(p) for p, d in zip(paths, digests) if digests.count(d) > 1]
        raise InputError(f"reference clips {', '.join(dupes)} hold the same audio; give different recordings")
    pid = profile_id(digests)
    taken = store.names().get(name)
    if taken is not None and taken != pid:
        raise InputError(f"voice profile {name!r} already exists with other clips; delete it first (vmsg clone delete {name})")
    if store.exists(pid):
        store.alias(name, pid)
        return store.load(name)
    started = time.perf_counter()
    embeddings = [embed(s, r, what=f"reference clip {p}") for (s, r), p in zip(clips, paths)]
    halves = []
    for (samples, rate), path in zip(clips, paths):
        try:
            halves.append(half_split_similarity(samples, rate, what=f"reference clip {path}"))
        except InputError:
            log.info("reference clip %s: too little speech to split in halves", path)
    f0, envelope = voice_stats(clips)
    target = mean_embedding(embeddings)
    style, fit = (None, {})
    if choose_voice:
        from vmsg.backends.clone.kokoro_style import choose_voice as choose

        style, fit = choose(target, f0, envelope)
    facts = {
        "self_similarity": round(float(np.mean(halves)), 4) if halves else None,
        "analysis_seconds": round(time.perf_counter() - started, 2),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **fit,
    }
    clip_facts = tuple({"sha256": d, "seconds": round(len(s) / r, 3), "rate": r, "file": Path(p).name}
                       for d, (s, r), p in zip(digests, clips, paths))
    profile = VoiceProfile(id=pid, clips=clip_facts, embedding=target, f0=f0, envelope=envelope, style=style,
                           facts=facts, audio=tuple(clips))
    return store.save(profile, name)
