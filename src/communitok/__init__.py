"""communitok: an engine for community-driven short-video platforms."""

__version__ = "0.1.0"
