"""Video renderers."""

from vmsg.backends.registry import Registry

RENDERERS: Registry = Registry("render", {
    "still": "vmsg.backends.render.still:StillRenderer",
    "face2d": "vmsg.backends.render.face2d:Face2DRenderer",
})
