"""Segmentation engines (one file each; the ONNX family shares onnx.py)."""

from vmsg.backends.registry import Registry

SEGMENTERS: Registry = Registry("segment", {
    "mediapipe": "vmsg.backends.segment.mediapipe:MediapipeSegmenter",
    "birefnet": "vmsg.backends.segment.onnx:BiRefNetSegmenter",
    "u2net": "vmsg.backends.segment.onnx:U2NetSegmenter",
    "u2netp": "vmsg.backends.segment.onnx:U2NetPSegmenter",
    "modnet": "vmsg.backends.segment.onnx:MODNetSegmenter",
    "sinet": "vmsg.backends.segment.onnx:SINetSegmenter",
})
