"""Text normalisation for moderation: robust to any input, fast, deterministic.

Every comment goes through :func:`normalize` before features are built, at training and
at classification time alike. It never raises on a string: empty strings, 100k-character
comments (truncated to ``max_chars``), emoji-only text, mixed scripts, control and
zero-width characters all come out as a (possibly empty) lower-case string.

Steps (in order): HTML entities (twice: the Davidson tweets are double-escaped), NFKC
(folds full-width and "fancy" Unicode letters that evade word lists), drop format
characters (zero-width joiners, BOM) and emoji / other symbols, control characters to
spaces, truncate, HTML tags,
URLs → ``urlhere``, ``@handles`` dropped, retweet marker ``RT`` removed, lower case,
letters repeated 3+ times squeezed to two (``biiitch`` → ``biitch``), whitespace collapsed.
The URL/mention placeholders follow Davidson et al. (2017), who replaced them by
``URLHERE`` / ``MENTIONHERE`` before building n-grams.

Emoji are dropped on purpose: in the Davidson tweets 😂 is a strong (spurious) correlate
of the offensive class, and a model that keeps them flags emoji-only comments — the most
common comment on a short-video platform — as offensive (measured: "😂😂😂" → P(offensive)
0.68 before, 0 after; see ``docs/safety.md``).

Lingo (a community's own invented words) can be masked with :func:`mask_lingo` so that a
comment is judged on its other words; see ``docs/safety.md``.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence

#: Default cap on characters looked at per comment (longer text is truncated).
MAX_CHARS = 2_000

_URL = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|ly|co|tv|me|info|biz|io|gg|example)\b(?:/\S*)?",
    re.IGNORECASE,
)
_MENTION = re.compile(r"@\w+")
_TAG = re.compile(r"<[^>\n]{0,200}>")
_RT = re.compile(r"\bRT\b")
_REPEAT = re.compile(r"(.)\1{2,}")
_SPACE = re.compile(r"\s+")
#: Platform vocabulary that the training sets (tweets, 2013–15 YouTube) never saw; it is
#: always treated as lingo. Without this, "#stitch" reads as offensive through its
#: character n-grams ("itch", "tit") — P(offensive) 0.97 for the word alone.
PLATFORM_LINGO: tuple[str, ...] = (
    "stitch", "stitched", "stitching", "stitches", "duet", "duets", "duetted", "duetting",
    "fyp", "fy", "foryou", "foryoupage", "fypage", "fypシ", "tiktok", "tiktoker", "tiktokers",
    "viral", "pov", "storytime", "grwm", "ootd", "relatable", "greenscreen", "lipsync",
    "livestream", "creator", "creators", "sped", "slowed", "remix", "mashup",
)  # fmt: skip
#: Word tokens as the word n-gram features see them (scikit-learn's default pattern).
TOKEN = re.compile(r"(?u)\b\w\w+\b")


def _strip_controls(text: str) -> str:
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("Cf", "So", "Sk") or ch in _VARIATION:  # zero-width, BOM, emoji: drop
            continue
        if cat in ("Cc", "Cs", "Co", "Cn"):  # controls, lone surrogates, private use
            out.append(" ")
            continue
        out.append(ch)
    return "".join(out)


_ASCII_OK = re.compile(r"[\x20-\x7e]*")
_VARIATION = frozenset(chr(c) for c in range(0xFE00, 0xFE10)) | {"\u20e3"}


def normalize(text: object, max_chars: int = MAX_CHARS) -> str:
    """Normalise one comment (see the module docstring); ``None`` and non-strings → ``""``."""
    if not isinstance(text, str) or not text:
        return ""
    text = text[: max_chars * 2]  # bound the work before the per-character passes
    if "&" in text:
        text = html.unescape(html.unescape(text))
    if not _ASCII_OK.fullmatch(text):
        text = unicodedata.normalize("NFKC", text)
        text = _strip_controls(text)
    text = text[:max_chars]
    if "<" in text:
        text = _TAG.sub(" ", text)
    text = _URL.sub(" urlhere ", text)
    if "@" in text:
        text = _MENTION.sub(" ", text)
    text = _RT.sub(" ", text).lower()
    text = _REPEAT.sub(r"\1\1", text)
    return _SPACE.sub(" ", text).strip()


def normalize_many(texts: Iterable[object], max_chars: int = MAX_CHARS) -> list[str]:
    """:func:`normalize` over an iterable (``None`` entries become ``""``)."""
    return [normalize(t, max_chars) for t in texts]


def lingo_terms(
    lingo: Iterable[str], known: frozenset[str], is_cue: Callable[[str], bool]
) -> tuple[frozenset[str], tuple[str, ...]]:
    """Split community lingo into maskable ``(words, phrases)``.

    - a single-word entry is maskable when the model does not know the word (it is in
      no training text): ``zorbly``;
    - a multi-word entry (``big zorbly energy``, ``zorbly check``) is maskable as a whole
      phrase when it contains at least one unknown word and none of its known words is
      a toxicity cue on its own (*is_cue*, e.g. "the model flags this word alone as hate
      or offensive").

    So a community cannot launder a known slur or insult by calling it lingo: known
    single words are never masked, and phrases only in the company of their invented word.
    """
    words: set[str] = set()
    phrases: set[str] = set()
    for entry in lingo:
        if not isinstance(entry, str):
            continue
        toks = TOKEN.findall(normalize(entry))
        if len(toks) == 1 and toks[0] not in known:
            words.add(toks[0])
        elif (
            len(toks) > 1
            and any(t not in known for t in toks)
            and not any(is_cue(t) for t in toks if t in known)
        ):
            phrases.add(" ".join(toks))
    return frozenset(words), tuple(sorted(phrases, key=len, reverse=True))


def mask_lingo(
    texts: Sequence[str], words: frozenset[str], phrases: Sequence[str] = ()
) -> list[str]:
    """Remove lingo *phrases* (whole, on word boundaries) and *words* from normalised texts.

    A community's invented words carry no toxicity evidence, yet their character n-grams
    can look like toxic ones by chance, and lingo phrases can contain words that mean
    something else elsewhere (``zorbly check`` vs. spam's "check my channel"). Masked text
    is judged on its other words; see :meth:`ModerationModel.features` for how the masked
    words still count towards the comment's length.
    """
    if not words and not phrases:
        return list(texts)
    pat = (
        re.compile(r"\b(?:" + "|".join(re.escape(p) for p in phrases) + r")\b") if phrases else None
    )
    out = []
    for t in texts:
        if pat is not None:
            t = pat.sub(" ", t)
        if words:
            t = TOKEN.sub(lambda m: " " if m.group(0) in words else m.group(0), t)
        out.append(_SPACE.sub(" ", t).strip())
    return out
