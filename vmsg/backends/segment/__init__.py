"""Segmentation engines."""

from vmsg.backends.registry import Registry

SEGMENTERS: Registry = Registry("segment", {"mediapipe": "vmsg.backends.segment.mediapipe:MediapipeSegmenter"})
