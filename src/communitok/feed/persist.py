"""A fitted feed as JSON plus numeric arrays: saved and loaded without pickle.

A fitted :class:`~.pipeline.FeedPipeline` is a tree of plain objects (stages, models,
catalogue, interactions) whose learned state is numpy arrays, scipy CSR matrices, faiss
indices and scalars. :func:`pipeline_state` walks that tree and returns

- a JSON-able *manifest*: the configuration, and for every object its class name
  (from a fixed allow-list of the feed's own classes) and attributes;
- a flat dict of *arrays*: numbers, booleans and fixed-width strings only (object
  arrays are stored as strings), faiss indices in faiss's own binary format.

:func:`restore_pipeline` rebuilds the pipeline from both. Loading never executes
stored code: arrays are read with ``numpy.load(..., allow_pickle=False)``, and only
allow-listed classes are instantiated (their ``__init__`` is not called, their
attributes are set). An object of another kind (e.g. a learned scorer's scikit-learn
model) makes :func:`pipeline_state` raise :class:`NotPersistable`: such a pipeline is
retrained instead of saved. Objects shared in the tree (the catalogue, the content
model) are stored once and shared again after loading. Sessions are live state and are
never part of a saved model.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..core.errors import CommunitokError, InputError

#: version of the layout below; a saved model of another version is not loaded
FORMAT_VERSION = 1


class NotPersistable(CommunitokError):
    """The pipeline holds state this format cannot store (it is retrained instead)."""


def _classes() -> dict[str, type]:
    from .ann import EmbeddingIndex
    from .content import ContentModel
    from .data import Catalogue, Interactions
    from .ease import EASE
    from .engagement import DurationDebiaser, EngagementWeights
    from .explain import Explainer
    from .mf import ImplicitMF
    from .rerank import ReRanker, Suppression
    from .scorer import FeatureBuilder, RRFScorer
    from .session import SessionUpdater
    from .sources import SOURCES
    from .sources.lists import KeyedLists, Memberships
    from .stages import FitContext

    fixed = (
        EmbeddingIndex,
        ContentModel,
        Catalogue,
        Interactions,
        EASE,
        DurationDebiaser,
        EngagementWeights,
        Explainer,
        ImplicitMF,
        ReRanker,
        Suppression,
        FeatureBuilder,
        RRFScorer,
        SessionUpdater,
        KeyedLists,
        Memberships,
        FitContext,
    )
    return {c.__name__: c for c in (*fixed, *SOURCES.values())}


def _lazy(cls: type) -> set[str]:
    """Attributes computed on first use (cached properties): never stored."""
    return {
        name
        for klass in cls.__mro__
        for name, v in vars(klass).items()
        if isinstance(v, cached_property)
    }


class _Writer:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.names: dict[int, str] = {}
        self.seen: dict[int, dict[str, Any]] = {}
        self.keep: list[Any] = []  # keeps encoded objects alive, so ids stay unique
        self.classes = _classes()

    def _array(self, a: np.ndarray) -> str:
        """Store *a* once (arrays shared between matrices are stored once)."""
        name = self.names.get(id(a))
        if name is None:
            name = self.names[id(a)] = f"a{len(self.arrays)}"
            self.arrays[name] = a
            self.keep.append(a)
        return name

    def encode(self, x: Any, where: str) -> Any:
        if x is None or isinstance(x, bool | int | float | str):
            return x
        if isinstance(x, np.generic):
            return x.item()
        ref = self.seen.get(id(x))
        if ref is not None:
            return ref
        node = self._encode(x, where)
        if isinstance(x, np.ndarray | sp.spmatrix) or type(x).__name__ in self.classes:
            self.seen[id(x)] = {"ref": len(self.seen)}
            node["id"] = len(self.seen) - 1
            self.keep.append(x)
        return node

    def _encode(self, x: Any, where: str) -> dict[str, Any]:
        if isinstance(x, np.ndarray):
            if x.dtype == object:
                if not all(isinstance(v, str) for v in x.ravel()):
                    raise NotPersistable(f"{where}: an object array holds non-strings")
                return {"array": self._array(x.astype(str)), "object": True}
            return {"array": self._array(x)}
        if isinstance(x, sp.spmatrix):
            m = sp.csr_matrix(x)
            return {
                "csr": [self._array(m.data), self._array(m.indices), self._array(m.indptr)],
                "shape": list(m.shape),
            }
        if isinstance(x, tuple | list):
            return {type(x).__name__: [self.encode(v, f"{where}[{i}]") for i, v in enumerate(x)]}
        if isinstance(x, set | frozenset):
            return {"set": [self.encode(v, where) for v in sorted(x, key=repr)]}
        if isinstance(x, dict):
            items = [[self.encode(k, where), self.encode(v, f"{where}.{k}")] for k, v in x.items()]
            return {"dict": items}
        if type(x).__module__.startswith("faiss"):
            import faiss

            return {"faiss": self._array(faiss.serialize_index(x))}
        name = type(x).__name__
        if self.classes.get(name) is not type(x):
            raise NotPersistable(f"{where}: cannot store a {type(x).__module__}.{name}")
        lazy = _lazy(type(x))
        state = {k: self.encode(v, f"{where}.{k}") for k, v in vars(x).items() if k not in lazy}
        return {"object": name, "state": state}


class _Reader:
    def __init__(self, arrays: Any) -> None:
        self.arrays = arrays
        self.objects: dict[int, Any] = {}
        self.classes = _classes()

    def _array(self, name: str) -> np.ndarray:
        a = self.arrays[name]
        if not isinstance(a, np.ndarray) or a.dtype == object:
            raise InputError(f"array {name!r} is missing or not numeric", field="model")
        return a

    def decode(self, node: Any) -> Any:
        if node is None or isinstance(node, bool | int | float | str):
            return node
        if not isinstance(node, dict):
            raise InputError(f"unexpected node {type(node).__name__}", field="model")
        if "ref" in node:
            return self.objects[node["ref"]]
        out = self._decode(node)
        if "id" in node:
            self.objects[node["id"]] = out
        return out

    def _decode(self, node: dict[str, Any]) -> Any:
        if "array" in node:
            a = self._array(node["array"])
            return a.astype(object) if node.get("object") else a
        if "csr" in node:
            d, i, p = (self._array(n) for n in node["csr"])
            return sp.csr_matrix((d, i, p), shape=tuple(node["shape"]))
        if "tuple" in node:
            return tuple(self.decode(v) for v in node["tuple"])
        if "list" in node:
            return [self.decode(v) for v in node["list"]]
        if "set" in node:
            return {self.decode(v) for v in node["set"]}
        if "dict" in node:
            return {self.decode(k): self.decode(v) for k, v in node["dict"]}
        if "faiss" in node:
            import faiss

            return faiss.deserialize_index(self._array(node["faiss"]))
        if "object" in node:
            cls = self.classes.get(node["object"])
            if cls is None:
                raise InputError(f"class {node['object']!r} is not allowed", field="model")
            obj: Any = object.__new__(cls)
            if "id" in node:  # register before the attributes: they may refer back
                self.objects[node["id"]] = obj
            obj.__dict__.update({k: self.decode(v) for k, v in node["state"].items()})
            _defaults(obj)
            return obj
        raise InputError(f"unknown node {sorted(node)}", field="model")


def _defaults(obj: Any) -> None:
    """Parameters added to a class after a model was saved take their defaults."""
    import inspect

    init = type(obj).__init__
    if init is object.__init__:
        return
    for name, par in inspect.signature(init).parameters.items():
        if name != "self" and name not in obj.__dict__ and par.default is not par.empty:
            obj.__dict__[name] = par.default


def pipeline_state(p: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(manifest, arrays) of a fitted pipeline; :class:`NotPersistable` if it holds
    state of a kind this format does not store."""
    p._check_fitted()
    w = _Writer()
    state = {k: w.encode(v, k) for k, v in vars(p).items() if k not in ("config", "sessions")}
    manifest = {"format": FORMAT_VERSION, "config": p.config.to_dict(), "state": state}
    return manifest, w.arrays


def restore_pipeline(manifest: dict[str, Any], arrays: Any, *, sessions: Any = None) -> Any:
    """The pipeline saved by :func:`pipeline_state` (``arrays``: a mapping name → array,
    e.g. an ``np.load(..., allow_pickle=False)`` archive)."""
    from .config import FeedConfig
    from .pipeline import FeedPipeline

    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        raise InputError(f"is not a feed model of format {FORMAT_VERSION}", field="model")
    p = FeedPipeline(FeedConfig.from_dict(_config(manifest["config"])), sessions=sessions)
    r = _Reader(arrays)
    p.__dict__.update({k: r.decode(v) for k, v in manifest["state"].items()})
    p._check_fitted()
    return p


def _config(d: dict[str, Any]) -> dict[str, Any]:
    """JSON turned tuples into lists: back to what :class:`~.config.FeedConfig` takes."""
    out = dict(d)
    out["sources"] = tuple(out.get("sources", ()))
    out["explore_sources"] = tuple(out.get("explore_sources", ()))
    return out
