"""Mixing engines."""

from vmsg.backends.registry import Registry

MIXERS: Registry = Registry("mix", {
    "broadcast": "vmsg.backends.mix.broadcast:BroadcastMixer",
    "simple": "vmsg.backends.mix.simple:SimpleMixer",
})
