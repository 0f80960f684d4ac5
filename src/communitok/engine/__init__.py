"""Engine: the one place where storage meets algorithms (wires a Store to everything)."""

from .core import Engine, StatusReport, open_engine

__all__ = ["Engine", "StatusReport", "open_engine"]
