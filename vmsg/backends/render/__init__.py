"""Video renderers."""

from vmsg.backends.registry import Registry

RENDERERS: Registry = Registry(
    "render",
    {
        "still": "vmsg.backends.render.still:StillRenderer",
        "did": "vmsg.backends.render.did:DidRenderer",
    },
)
