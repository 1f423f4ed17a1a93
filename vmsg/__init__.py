"""vmsg: portrait + message text -> lip-synced talking video message."""

__version__ = "0.1.0"
