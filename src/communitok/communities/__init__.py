"""Communities: detection, overlap memberships, naming, tracking, profiles, lingo, bridges."""

from .detect import Leiden, detect, modularity
from .resolution import ResolutionProfile

__all__ = ["Leiden", "ResolutionProfile", "detect", "modularity"]
