"""Person and face detectors: each returns PersonBox list (person box, score, face box when known)."""

from vmsg.backends.registry import Registry

DETECTORS: Registry = Registry("detect", {
    "mediapipe": "vmsg.backends.detect.mediapipe:MediapipeFaceDetector",
    "yolox": "vmsg.backends.detect.yolox:YoloxPersonDetector",
    "yunet": "vmsg.backends.detect.yunet:YunetFaceDetector",
})
