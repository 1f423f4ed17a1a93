"""Voice conversion engines."""

from vmsg.backends.registry import Registry

VOICE_CONVERTERS: Registry = Registry(
    "clone",
    {
        "world": "vmsg.backends.clone.world:WorldConverter",
        "pitchmatch": "vmsg.backends.clone.pitchmatch:PitchMatchConverter",
        "openvoice": "vmsg.backends.clone.openvoice:OpenVoiceHTTPConverter",
        "openvoice-local": "vmsg.backends.clone.openvoice_local:OpenVoiceLocalConverter",
    },
)
