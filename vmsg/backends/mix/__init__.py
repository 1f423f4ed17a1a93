"""Mixing engines."""

from vmsg.backends.registry import Registry

MIXERS: Registry = Registry("mix", {"simple": "vmsg.backends.mix.simple:SimpleMixer"})
