"""Voice conversion engines."""

from vmsg.backends.registry import Registry

VOICE_CONVERTERS: Registry = Registry("clone", {"pitchmatch": "vmsg.backends.clone.pitchmatch:PitchMatchConverter"})
