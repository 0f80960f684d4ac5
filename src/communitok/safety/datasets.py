"""Readers for the labelled moderation sets in ``../shared/data/moderation`` (explicit I/O).

Like model save/load, these are the only functions in :mod:`communitok.safety` that touch
files. Bytes that are not valid UTF-8 are replaced (U+FFFD), never fatal.

- Davidson, Warmsley, Macy & Weber, "Automated Hate Speech Detection and the Problem of
  Offensive Language", ICWSM 2017 (MIT licence): class 0 → ``hate``, 1 → ``offensive``,
  2 → ``ok``.
- Alberto, Lochter & Almeida, "TubeSpam: Comment Spam Filtering on YouTube", ICMLA 2015
  (CC BY 4.0): ``CLASS`` 1 → ``spam``, 0 → ``ok``; exact duplicate texts are dropped
  (keeping the first) so that splits cannot leak copy-paste spam.
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.errors import InputError, NotFound

DAVIDSON = Path("moderation/davidson/labeled_data.csv.gz")
YOUTUBE_SPAM = Path("moderation/youtube_spam/youtube_spam.csv.gz")
_DAVIDSON_CLASSES = {"0": "hate", "1": "offensive", "2": "ok"}
_SPAM_CLASSES = {"1": "spam", "0": "ok"}
#: Davidson's annotator vote columns, in :attr:`LabeledTexts.votes` order.
VOTE_COLUMNS = ("hate_speech", "offensive_language", "neither")


@dataclass(frozen=True)
class LabeledTexts:
    """Texts with moderation categories; ``groups`` (e.g. source video) may be empty;
    ``votes`` (Davidson only) holds the annotators' votes per text, columns
    :data:`VOTE_COLUMNS` (hate, offensive, neither), else it is empty."""

    name: str
    texts: tuple[str, ...]
    labels: np.ndarray
    groups: np.ndarray
    votes: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), dtype=np.int64))

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, idx: np.ndarray) -> LabeledTexts:
        idx = np.asarray(idx)
        return LabeledTexts(
            self.name,
            tuple(self.texts[i] for i in idx),
            self.labels[idx],
            self.groups[idx] if len(self.groups) else self.groups,
            self.votes[idx] if len(self.votes) else self.votes,
        )


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise NotFound(f"data file not found: {path}")
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    raw = path.read_bytes()
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise InputError(f"not a gzip file: {exc}", source=str(path)) from None
    text = raw.decode("utf-8", errors="replace")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _folder(data: str | Path, rel: Path) -> Path:
    data = Path(data)
    return data / rel if (data / rel).is_file() else data / rel.parent.name / rel.name


def load_davidson(data: str | Path) -> LabeledTexts:
    """Davidson et al. 2017 from the data root (``../shared/data``) or its own folder."""
    path = _folder(data, DAVIDSON)
    texts, labels, votes = [], [], []
    for i, row in enumerate(_rows(path), start=2):
        cls = _DAVIDSON_CLASSES.get((row.get("class") or "").strip())
        if cls is None or row.get("tweet") is None:
            raise InputError("bad class or tweet", source=str(path), line=i)
        try:
            votes.append([int(row.get(c) or 0) for c in VOTE_COLUMNS])
        except ValueError:
            raise InputError("vote counts must be integers", source=str(path), line=i) from None
        texts.append(row["tweet"])
        labels.append(cls)
    return LabeledTexts(
        "davidson",
        tuple(texts),
        np.array(labels, dtype=object),
        np.array([]),
        np.array(votes, dtype=np.int64).reshape(-1, 3),
    )


def read_texts(path: str | Path) -> tuple[list[str], int]:
    """One comment per line of a text file (``-``: standard input) → ``(texts, n_bad)``.

    Bytes that are not valid UTF-8 are replaced by U+FFFD (never fatal); ``n_bad`` counts
    the lines that needed a replacement. A trailing newline does not add an empty comment.
    """
    if str(path) == "-":
        raw = sys.stdin.buffer.read()
    else:
        p = Path(path)
        if not p.is_file():
            raise NotFound(f"file not found: {p}")
        raw = p.read_bytes()
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    texts, bad = [], 0
    for line in lines:
        line = line.removesuffix(b"\r")
        try:
            texts.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            texts.append(line.decode("utf-8", errors="replace"))
            bad += 1
    return texts, bad


def load_youtube_spam(data: str | Path) -> LabeledTexts:
    """YouTube Spam Collection, de-duplicated by text; ``groups`` is the source video."""
    path = _folder(data, YOUTUBE_SPAM)
    seen: set[str] = set()
    texts, labels, videos = [], [], []
    for i, row in enumerate(_rows(path), start=2):
        content = row.get("CONTENT")
        cls = _SPAM_CLASSES.get((row.get("CLASS") or "").strip())
        if content is None or cls is None:
            raise InputError("bad CONTENT or CLASS", source=str(path), line=i)
        if content in seen:
            continue
        seen.add(content)
        texts.append(content)
        labels.append(cls)
        videos.append(row.get("video") or "")
    return LabeledTexts(
        "youtube_spam",
        tuple(texts),
        np.array(labels, dtype=object),
        np.array(videos, dtype=object),
    )
