"""CovetPy: an async Python web framework with a zero-dependency core."""

__version__ = "0.1.0"
