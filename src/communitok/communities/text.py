"""Tokenising captions, comments and transcripts for lingo (any script, emoji, CJK).

* Text is NFKC-normalised and case-folded (``Ｂｏｏｋ`` → ``book``, ``ß`` → ``ss``).
* URLs and ``@mentions`` are dropped; ``#hashtags`` are dropped by default (hashtags
  are profiled on their own), or kept as ``#tag`` tokens.
* Letters of any script form words (``café``, ``книга``, ``don't``); digits only
  inside words (``y2k``) — pure numbers are dropped.
* Emoji are tokens of their own, one per pictograph sequence (``👩‍🍳`` stays whole,
  skin-tone modifiers and variation selectors stay attached; ``🔥🔥`` → two tokens).
* Chinese, Japanese and Thai are written without spaces: their runs become overlapping
  character bigrams (the CJK analyser of Lucene/Elasticsearch), a run of one
  character stays a unigram. Korean (Hangul) words are space-delimited and kept whole.

Only the standard library: no dictionaries to download.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"@[^\s@#]+")
_HASHTAG = re.compile(r"#([^\s#@]+)")
# Han, Hiragana, Katakana, Thai: scripts written without spaces
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f\U00020000-\U0002ffff"
# pictographs and symbols, with modifiers / ZWJ / variation selectors / keycaps attached
_EMOJI_CORE = "\U0001f000-\U0001faff\u2600-\u27bf\u2300-\u23ff\u2b00-\u2bff\u3030\u303d\u3297\u3299"
_EMOJI_TAIL = "\ufe0f\u20e3\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f"
_EMOJI = f"[\U0001f1e6-\U0001f1ff]{{2}}|[{_EMOJI_CORE}\U0001f1e6-\U0001f1ff][{_EMOJI_TAIL}]*(?:\u200d[{_EMOJI_CORE}][{_EMOJI_TAIL}]*)*"
_TOKEN = re.compile(
    rf"(?P<emoji>{_EMOJI})"
    rf"|(?P<cjk>[{_CJK}]+)"
    r"|(?P<word>(?:[^\W_]|['’](?=[^\W\d_]))+)",
    re.UNICODE,
)


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _bigrams(run: str) -> Iterator[str]:
    if len(run) == 1:
        yield run
        return
    for i in range(len(run) - 1):
        yield run[i : i + 2]


def tokenize(text: str | None, *, keep_hashtags: bool = False) -> list[str]:
    """Tokens of *text* (see the module docstring); ``None`` or empty gives ``[]``."""
    if not text:
        return []
    t = normalise(str(text))
    t = _URL.sub(" ", t)
    t = _MENTION.sub(" ", t)
    tags: list[str] = []
    if keep_hashtags:
        tags = ["#" + h for h in _HASHTAG.findall(t)]
    t = _HASHTAG.sub(" ", t)
    out: list[str] = []
    for m in _TOKEN.finditer(t):
        kind = m.lastgroup
        tok = m.group()
        if kind == "emoji":
            out.append(tok.replace("\ufe0f", ""))
        elif kind == "cjk":
            out.extend(_bigrams(tok))
        else:
            tok = tok.strip("'’").replace("’", "'")
            if tok and not tok.isdigit():
                out.append(tok)
    return out + tags


def phrases(tokens: list[str], n: int = 2) -> list[str]:
    """Word n-grams (joined by a space) of consecutive non-emoji word tokens."""
    if n < 2:
        return list(tokens)
    return [
        " ".join(tokens[i : i + n])
        for i in range(len(tokens) - n + 1)
        if all(_is_word(x) for x in tokens[i : i + n])
    ]


def _is_word(tok: str) -> bool:
    return bool(tok) and tok[0].isalpha() and not re.match(f"[{_CJK}]", tok[0])


def terms(texts: Iterable[str | None], *, max_n: int = 3) -> Iterator[list[str]]:
    """Per text: its tokens plus its word n-grams for n = 2 … *max_n*."""
    for text in texts:
        toks = tokenize(text)
        out = list(toks)
        for n in range(2, max_n + 1):
            out.extend(phrases(toks, n))
        yield out
