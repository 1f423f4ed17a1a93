"""Prosody engines."""

from vmsg.backends.registry import Registry

PROSODY_ENGINES: Registry = Registry("prosody", {
    "rubberband": "vmsg.backends.prosody.rubberband:RubberBandProsody",
    "world": "vmsg.backends.prosody.rubberband:WorldProsody",
})
