"""Normal forms of platform text (one rule, used by every reader and the simulator)."""

from __future__ import annotations

import unicodedata


def normalize_tag(tag: str) -> str:
    """A hashtag's stored form: NFC, no leading ``#``, no surrounding space, lower-case.

    ``"#BookTok "`` → ``"booktok"``; ``"# foo"`` → ``"foo"``; emoji and CJK stay as they are.
    """
    t = unicodedata.normalize("NFC", tag).strip().lstrip("#").strip()
    return t.lower()
