"""The one settings object: ``COMMUNITOK_*`` environment variables, optional TOML file.

Precedence (highest first): explicit keyword arguments, environment variables,
the TOML file named by ``COMMUNITOK_CONFIG`` (or ``communitok.toml`` in the working
folder), then defaults.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .errors import InputError

ENV_PREFIX = "COMMUNITOK_"
DEFAULT_STORE = "communitok.duckdb"


@dataclass(frozen=True)
class Settings:
    """Runtime settings. Build with :func:`load_settings`."""

    #: Store location: a DuckDB file path (default, embedded), ``duckdb:///path``,
    #: ``:memory:`` or ``postgresql://...`` (server backend).
    store: str = DEFAULT_STORE
    #: Rows per ingest batch (one transaction each).
    batch_rows: int = 1_000_000
    #: Privacy threshold: partner-facing aggregates need at least this many viewers.
    privacy_k: int = 50
    #: Default seed for stochastic work.
    seed: int = 42
    #: Threads DuckDB may use (0 = its default).
    threads: int = 0
    #: Memory limit for DuckDB, e.g. ``"4GB"`` (empty = its default).
    memory_limit: str = ""
    #: Folder where reject reports are written.
    rejects_dir: str = "rejects"
    #: Folder of saved models (the trained feed). Empty: beside a DuckDB file store
    #: (``<store>.feed``); a store that is not a file (PostgreSQL, ``:memory:``) then
    #: saves none and retrains at each start. Set it to keep models of any store.
    models_dir: str = ""
    #: Host and port of ``communitok serve``.
    host: str = "127.0.0.1"
    port: int = 8000
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.store:
            raise InputError("must not be empty", field="store")
        if self.batch_rows < 1:
            raise InputError("must be >= 1", field="batch_rows")
        if self.privacy_k < 1:
            raise InputError("must be >= 1", field="privacy_k")
        if self.threads < 0:
            raise InputError("must be >= 0", field="threads")
        if not 0 < self.port < 65536:
            raise InputError("must be a TCP port", field="port")

    @property
    def backend(self) -> str:
        """``"duckdb"`` or ``"postgresql"``."""
        s = self.store
        if s.startswith(("postgresql://", "postgres://")):
            return "postgresql"
        return "duckdb"

    @property
    def duckdb_path(self) -> str:
        """Filesystem path (or ``:memory:``) of the DuckDB store."""
        s = self.store
        if s.startswith("duckdb://"):
            s = s[len("duckdb://") :]
        return s

    def with_(self, **changes: Any) -> Settings:
        """Return a copy with *changes* applied (validated)."""
        return replace(self, **changes)


def _coerce(name: str, raw: Any, default: Any) -> Any:
    if isinstance(default, bool):
        if isinstance(raw, bool):
            return raw
        v = str(raw).strip().lower()
        if v in {"1", "true", "yes", "on"}:
            return True
        if v in {"0", "false", "no", "off"}:
            return False
        raise InputError(f"not a boolean: {raw!r}", field=name)
    if isinstance(default, int):
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise InputError(f"not an integer: {raw!r}", field=name) from None
    if isinstance(default, dict):
        if not isinstance(raw, dict):
            raise InputError("must be a table", field=name)
        return {str(k): str(v) for k, v in raw.items()}
    return str(raw)


def load_settings(
    env: dict[str, str] | None = None, config_file: str | Path | None = None, **overrides: Any
) -> Settings:
    """Build :class:`Settings` from defaults, a TOML file, the environment and *overrides*."""
    env = dict(os.environ) if env is None else env
    defaults = Settings()
    values: dict[str, Any] = {}
    names = {f.name for f in fields(Settings)}

    path = config_file or env.get(ENV_PREFIX + "CONFIG")
    if path is None and Path("communitok.toml").is_file():
        path = "communitok.toml"
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise InputError("config file not found", source=str(p))
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise InputError(str(exc), source=str(p)) from None
        section = data.get("communitok", data)
        for key, raw in section.items():
            if key not in names:
                raise InputError("unknown setting", source=str(p), field=key)
            values[key] = _coerce(key, raw, getattr(defaults, key))

    for key in names - {"extra"}:
        raw = env.get(ENV_PREFIX + key.upper())
        if raw is not None and raw != "":
            values[key] = _coerce(ENV_PREFIX + key.upper(), raw, getattr(defaults, key))

    for key, raw in overrides.items():
        if key not in names:
            raise InputError("unknown setting", field=key)
        if raw is not None:
            values[key] = raw
    return Settings(**values)
