"""Engines, one folder per stage. Each folder's __init__ holds an explicit
name → class registry; heavy imports happen only when an engine is built."""
