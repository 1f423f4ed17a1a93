"""Video renderers."""

from vmsg.backends.registry import Registry

RENDERERS: Registry = Registry(
    "render",
    {
        "face2d": "vmsg.backends.render.face2d:Face2DRenderer",
        "still": "vmsg.backends.render.still:StillRenderer",
        "did": "vmsg.backends.render.did:DidRenderer",
    },
)
