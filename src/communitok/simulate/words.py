"""Vocabulary of the simulated platform: community stems, invented lingo, text templates.

Community names follow the platform's habit (``booktok``, ``cleantok``); each community's
lingo is made of *invented* words (``zorbly``, ``flimnax``) so that a lingo detector can
be checked exactly: those words occur nowhere else except by planted leakage. Toxic
comment templates are deliberately mild (no slurs) but clearly hateful, harassing or spam.
"""

from __future__ import annotations

import numpy as np

#: (stem, coarse category) pairs; community name = stem + "tok".
STEMS: tuple[tuple[str, str], ...] = (
    ("book", "Education"), ("clean", "Home"), ("van", "Travel"), ("forage", "Food"),
    ("spooky", "Entertainment"), ("guitar", "Music"), ("plant", "Home"), ("gym", "Sports"),
    ("cook", "Food"), ("cat", "Animals"), ("anime", "Entertainment"), ("skate", "Sports"),
    ("knit", "Art"), ("garden", "Home"), ("fish", "Outdoors"), ("chess", "Games"),
    ("teacher", "Education"), ("nurse", "Careers"), ("mom", "Family"), ("thrift", "Fashion"),
    ("makeup", "Beauty"), ("nail", "Beauty"), ("car", "Autos"), ("frog", "Animals"),
    ("bird", "Animals"), ("hike", "Outdoors"), ("bake", "Food"), ("coffee", "Food"),
    ("pottery", "Art"), ("dance", "Performance"), ("theatre", "Performance"), ("law", "Careers"),
    ("finance", "Careers"), ("science", "Education"), ("history", "Education"),
    ("space", "Education"), ("retro", "Games"), ("lego", "Toys"), ("sneaker", "Fashion"),
    ("wedding", "Family"), ("tarot", "Lifestyle"), ("ufo", "Entertainment"), ("soup", "Food"),
    ("farm", "Outdoors"), ("dog", "Animals"), ("piano", "Music"), ("drag", "Performance"),
    ("poetry", "Art"),
)  # fmt: skip

#: Prefixes that make second-round names unique (``indiebooktok``) when stems run out.
MODIFIERS = ("indie", "cozy", "alt", "uk", "latino", "deaf", "queer", "budget", "retro", "mini")

#: Suffixes for a community's distinctive hashtags (``booklife``, ``cleantips``).
TAG_SUFFIXES = (
    "tips", "life", "lover", "recs", "daily", "hacks", "community", "addict", "oftiktok",
    "goals", "check", "club", "vibes", "journey", "haul", "inspo", "squad", "nerd",
)  # fmt: skip

#: Global "mega" hashtags used across every community, with their per-video rates
#: (scaled by ``SimConfig.mega_tag_rate / 0.6``).
MEGA_TAGS: tuple[tuple[str, float], ...] = (
    ("fyp", 0.55), ("foryou", 0.35), ("foryoupage", 0.2), ("viral", 0.25),
    ("trending", 0.1), ("tiktok", 0.1),
)  # fmt: skip

#: Common hashtags without community meaning, used at moderate rates.
GENERIC_TAGS = (
    "funny", "love", "relatable", "pov", "storytime", "trend", "comedy", "aesthetic",
    "motivation", "tutorial", "weekend", "mood",
)  # fmt: skip

CAPTION_OPENERS = ("", "", "", "pov:", "wait for it", "storytime:", "part 2", "day 3 of", "ok so")
CAPTION_WORDS = (
    "my", "new", "this", "day", "when", "you", "just", "so", "the", "finally", "first", "try",
    "routine", "update", "me", "literally", "obsessed", "honestly", "best", "weekend", "today",
    "guess", "what", "happened", "again", "little", "favourite", "how", "we", "made", "it",
    "real", "week", "never", "going", "back", "trying", "out", "one", "more", "time",
)  # fmt: skip
SPOKEN_WORDS = (
    "so", "today", "i'm", "going", "to", "show", "you", "how", "we", "are", "okay", "like",
    "um", "this", "is", "really", "good", "and", "then", "right", "guys", "let's", "see",
    "what", "happens", "if", "i", "just", "put", "it", "here", "honestly",
)  # fmt: skip
EMOJI = ("😂", "😭", "🔥", "✨", "💀", "❤️", "🥺", "👀", "🙌", "💅")

SYLLABLES = (
    "ba", "ko", "zu", "mi", "ra", "te", "lo", "pi", "xa", "vo", "ny", "fle", "gri", "sno",
    "pla", "dro", "ki", "mu", "zee", "quo", "bli", "fro", "sha", "wum", "tav", "jix", "gop",
)  # fmt: skip
WORD_ENDINGS = ("", "", "y", "ish", "core", "z", "o")
PHRASE_FORMS = ("{} check", "big {} energy", "{} era", "no {} no life")

#: Comment templates. ``{lingo}`` = a word of the video's community, ``{word}`` = common
#: word, ``{emoji}``, ``{group}`` = a targeted group, ``{name}`` = @creator, ``{url}``.
CLEAN_TEMPLATES = (
    "this is so {lingo} {emoji}", "{lingo} forever", "omg {word} {emoji}", "need part 2 {emoji}",
    "the {lingo} at the end {emoji}", "who else is here from the fyp", "i love this {word}",
    "big {lingo} energy", "not the {word} {emoji}", "saving this for later",
    "{lingo} {lingo} {emoji}", "me every {word} lol", "{name} you did it again {emoji}",
)  # fmt: skip
HATE_TEMPLATES = (
    "{group} don't belong here", "{group} ruin everything, disgusting",
    "get {group} off this app", "nobody wants {group} around {emoji}",
    "{group} are a plague on this platform",
)  # fmt: skip
OFFENSIVE_TEMPLATES = (
    "you are so ugly lmao {emoji}", "delete your account {name}", "nobody asked, idiot",
    "shut up you clown {emoji}", "this is trash and so are you", "you're pathetic {name}",
    "stupid {word} loser",
)  # fmt: skip
SPAM_TEMPLATES = (
    "check my profile for free followers {emoji}", "win a free iphone at {url}",
    "follow me i follow back {emoji}{emoji}", "earn $500 a day from home dm me",
    "cheap likes and views at {url}", "free gift cards here {url} {emoji}",
)  # fmt: skip
POD_TEMPLATES = (
    "love this!! {emoji}", "so good {name} {emoji}", "obsessed {emoji}{emoji}", "yesss {emoji}",
    "this one is my favourite {emoji}",
)  # fmt: skip
GROUPS = ("immigrants", "women", "gay people", "disabled people", "old people", "foreigners")
URLS = ("bit.ly/fr33gift", "free-views.example", "promo-win.example", "gr8deals.example")
BRANDS = ("lumora", "brightbrew", "kindlepeak", "nuvola", "trailfox", "mossberry", "zentro")

REGIONS = ("US", "GB", "CA", "AU", "DE", "FR", "ES", "IT", "BR", "MX", "ID", "PH", "JP", "VN", "TR")
REGION_WEIGHTS = (30, 8, 5, 4, 6, 5, 4, 3, 8, 6, 7, 5, 3, 3, 3)
LANGUAGES = (
    "en",
    "en",
    "en",
    "en",
    "de",
    "fr",
    "es",
    "it",
    "pt",
    "es",
    "id",
    "tl",
    "ja",
    "vi",
    "tr",
)
ACTIVITY_LEVELS = ("low_active", "mid_active", "high_active", "full_active")
EFFECT_NAMES = ("Green Screen", "Beauty", "Time Warp", "Slow Zoom", "Bling", "Retro VHS", "Face Zoom",
                "3D Photo", "Blur", "Glitch", "Split Screen", "Inferno")  # fmt: skip
SOUND_WORDS = ("remix", "sped up", "slowed", "original mix", "acoustic", "mashup", "theme")


def invent_words(rng: np.random.Generator, n: int, taken: set[str]) -> list[str]:
    """*n* new pronounceable invented words not in *taken* (which they are added to)."""
    out: list[str] = []
    while len(out) < n:
        k = int(rng.integers(2, 4))
        w = "".join(SYLLABLES[i] for i in rng.integers(0, len(SYLLABLES), k))
        w += WORD_ENDINGS[int(rng.integers(0, len(WORD_ENDINGS)))]
        if w not in taken and 4 <= len(w) <= 11:
            taken.add(w)
            out.append(w)
    return out


def community_names(n: int) -> list[tuple[str, str, str]]:
    """(stem, name, category) for *n* communities: ``booktok`` … then ``indiebooktok`` …"""
    out = []
    for i in range(n):
        stem, cat = STEMS[i % len(STEMS)]
        rnd = i // len(STEMS)
        if rnd:
            stem = (
                MODIFIERS[(rnd - 1) % len(MODIFIERS)]
                + stem
                + ("" if rnd <= len(MODIFIERS) else str(rnd))
            )
        out.append((stem, stem + "tok", cat))
    return out


def parse_template(t: str) -> list[str]:
    """Split ``"a {x} b"`` into literal and slot parts: ``["a ", "{x}", " b"]``."""
    parts, buf, i = [], "", 0
    while i < len(t):
        if t[i] == "{":
            j = t.index("}", i)
            parts.append(buf)
            parts.append(t[i : j + 1])
            buf, i = "", j + 1
        else:
            buf += t[i]
            i += 1
    parts.append(buf)
    return parts
