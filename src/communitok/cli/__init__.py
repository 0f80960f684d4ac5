"""The ``communitok`` command (Typer). Thin: parse, call the library, render."""

from .app import app, main

__all__ = ["app", "main"]
