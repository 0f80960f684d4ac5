"""HTTP API (FastAPI): a thin interface over :mod:`communitok.engine`, versioned under /v1.

from communitok.api import create_app
app = create_app(engine)          # or create_app(settings): the app owns the engine
"""

from .app import create_app
from .context import RequestIdFilter
from .security import SCOPES, KeyRing

__all__ = ["SCOPES", "KeyRing", "RequestIdFilter", "create_app"]
