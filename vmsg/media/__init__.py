"""Shared audio, image and video helpers."""
