"""The Engine: opens the store, runs ingest and analyses, records runs."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import InputError
from ..core.settings import Settings, load_settings
from ..ingest import IngestSummary, RawBatch, load, read_file
from ..store import RunRecord, Store, open_store
from ..store.sqlbase import latest_version

Progress = Callable[[str, int], None]


@dataclass
class StatusReport:
    """What is stored: backend, schema version, row counts, results, last runs."""

    backend: str
    location: str
    schema_version: int
    latest_schema_version: int
    counts: dict[str, int]
    results: list[str]
    runs: list[RunRecord] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "location": self.location,
            "schema_version": self.schema_version,
            "latest_schema_version": self.latest_schema_version,
            "counts": self.counts,
            "results": self.results,
            "runs": [
                {
                    "run_id": r.run_id,
                    "kind": r.kind,
                    "status": r.status,
                    "seed": r.seed,
                    "started_at": r.started_at.isoformat() if r.started_at else None,
                    "duration_s": r.duration_s,
                    "summary": dict(r.summary),
                }
                for r in self.runs
            ],
        }


def _fingerprint(paths: Sequence[str | Path]) -> str:
    h = hashlib.blake2b(digest_size=12)
    for p in paths:
        st = Path(p).stat()
        h.update(f"{Path(p).resolve()}|{st.st_size}|{st.st_mtime_ns}".encode())
    return h.hexdigest()


class Engine:
    """Orchestration over a :class:`~communitok.store.Store`.

    Use as a context manager; every long job records a run row (parameters, seed,
    input fingerprint, start/end, status, summary).
    """

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._on_close: dict[str, Callable[[], object]] = {}

    # --- lifecycle ------------------------------------------------------------
    def on_close(self, name: str, fn: Callable[[], object]) -> None:
        """Run *fn* when the engine closes, before its store does (e.g. the feed writes
        its buffered exposure log); one hook per *name* (a later one replaces it)."""
        if not callable(fn):
            raise InputError("must be callable", field="fn")
        self._on_close[str(name)] = fn

    def close(self) -> None:
        hooks, self._on_close = list(self._on_close.items()), {}
        for name, fn in reversed(hooks):
            try:
                fn()
            except Exception:  # closing the store matters more than one hook
                logging.getLogger("communitok").exception("close hook %r failed", name)
        self.store.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- runs -----------------------------------------------------------------
    def _run(
        self,
        kind: str,
        params: dict[str, Any],
        fn: Callable[[], Any],
        *,
        seed: int | None = None,
        fingerprint: str | None = None,
        summarize: Callable[[Any], dict[str, Any]] | None = None,
    ) -> Any:
        run_id = self.store.start_run(kind, params, seed=seed, input_fingerprint=fingerprint)
        try:
            out = fn()
        except BaseException as exc:
            self.store.finish_run(run_id, "failed", {"error": f"{type(exc).__name__}: {exc}"})
            raise
        self.store.finish_run(run_id, "ok", summarize(out) if summarize else {})
        return out

    # --- ingest ---------------------------------------------------------------
    def ingest_batches(
        self,
        batches: Iterable[RawBatch],
        *,
        kind: str = "ingest",
        params: dict[str, Any] | None = None,
        fingerprint: str | None = None,
        progress: Progress | None = None,
    ) -> IngestSummary:
        """Validate and load raw batches (one transaction per batch) as one recorded run."""
        return self._run(
            kind,
            params or {},
            lambda: load(
                self.store, batches, rejects_dir=self.settings.rejects_dir, progress=progress
            ),
            fingerprint=fingerprint,
            summarize=lambda s: s.to_dict(),
        )

    def ingest(
        self,
        paths: Sequence[str | Path],
        *,
        table: str | None = None,
        format: str | None = None,
        progress: Progress | None = None,
    ) -> IngestSummary:
        """Ingest files (JSONL, CSV/TSV, Parquet, Research API JSON)."""
        if not paths:
            raise InputError("give at least one file", field="paths")
        files: list[Path] = []
        for p in map(Path, paths):
            if p.is_dir():
                files.extend(
                    sorted(q for q in p.iterdir() if q.is_file() and not q.name.startswith("."))
                )
            elif p.is_file():
                files.append(p)
            else:
                raise InputError("file not found", source=str(p))
        if not files:
            raise InputError("no files found", source=", ".join(map(str, paths)))

        def batches() -> Iterable[RawBatch]:
            for f in files:
                yield from read_file(f, table, format=format, batch_rows=self.settings.batch_rows)

        return self.ingest_batches(
            batches(),
            params={"paths": [str(f) for f in files], "table": table, "format": format},
            fingerprint=_fingerprint(files),
            progress=progress,
        )

    def ingest_dataset(
        self, name: str, folder: str | Path, *, progress: Progress | None = None
    ) -> IngestSummary:
        """Ingest one of the real public data sets (see ``communitok.ingest.datasets``)."""
        from ..ingest.datasets import read_dataset

        folder = Path(folder)
        return self.ingest_batches(
            read_dataset(name, folder),
            kind="ingest-dataset",
            params={"dataset": name, "folder": str(folder)},
            progress=progress,
        )

    # --- status ---------------------------------------------------------------
    def status(self, runs: int = 10) -> StatusReport:
        if runs < 1:
            raise InputError("must be >= 1", field="runs")
        return StatusReport(
            backend=self.store.backend,
            location=self.settings.store,
            schema_version=self.store.schema_version(),
            latest_schema_version=latest_version(self.store.backend),
            counts=self.store.counts(),
            results=self.store.result_names(),
            runs=self.store.runs(limit=runs),
        )


def open_engine(settings: Settings | None = None, **overrides: Any) -> Engine:
    """Open an engine on the configured store (embedded DuckDB by default)."""
    settings = settings or load_settings(**overrides)
    return Engine(open_store(settings), settings)
