"""Stage 3: what each video looks like: duration, sound, effects, hashtags, text.

Per video (vectorised; the community is the video's *effective* community):

* **duration** 5–180 s (mostly short: log-normal around 20 s and 45 s, 10 % long);
  duets copy their parent's duration.
* **sound**: 45 % an original sound of the uploader, 30 % a signature sound of the
  community (Zipf), otherwise a global chart sound; duets and sound reuses take their
  parent's sound; sound-burst videos use the burst's sound.
* **hashtags** (lower case, no ``#``): 1–3 distinctive tags of the community (Zipf),
  global mega tags (``fyp`` 55 %, ``foryou`` 35 % … scaled by ``mega_tag_rate``), a
  generic tag (30 %), a random community's name tag (4 % noise, by community size), the bridge tag (6 % in
  bridged communities, 50 % for crossover creators), burst / campaign tags, ``duet`` /
  ``stitch`` on such children.
* **description**: openers and common words, the community's lingo with probability
  ``lingo_rate`` (a second token 30 % of those times), another community's lingo with
  probability ``lingo_leak``, emoji, then ``#tags``. **transcript** (``transcript_rate``)
  mixes spoken filler words with lingo at ``0.7 × lingo_rate``.
* **mentions**: the parent's creator for duets/stitches, 10 % a creator of the same
  community, 30 % of pod members' videos a fellow pod member.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..core.seeds import derive_seed
from .plans import BurstPlan, CampaignPlan
from .sampling import GroupSampler, cdf_sample, join_words, list_column, zipf_weights
from .videos import Videos
from .words import (
    CAPTION_OPENERS,
    CAPTION_WORDS,
    EMOJI,
    GENERIC_TAGS,
    MEGA_TAGS,
    REGIONS,
    SPOKEN_WORDS,
)
from .world import World


@dataclass
class Content:
    duration: np.ndarray
    sound: np.ndarray  # index into registry; originals follow the fixed sounds
    original_creator: np.ndarray  # creator of each original sound, in sound order
    original_video: np.ndarray  # video that introduced each original sound
    n_fixed_sounds: int
    tag_vocab: list[str]
    hashtags: pa.Array
    effect_ids: pa.Array
    mentions: pa.Array
    description: pa.Array
    transcript: pa.Array
    categories: pa.Array
    region: pa.Array


def _token_sampler(
    lists: Sequence[Sequence[Any]], index: Mapping[Any, int] | None, n_groups: int
) -> GroupSampler:
    g, item, wt = [], [], []
    for c, items in enumerate(lists):
        zw = zipf_weights(len(items), 0.8)
        for j, it in enumerate(items):
            g.append(c)
            item.append(index[it] if index is not None else it)
            wt.append(zw[j])
    return GroupSampler(np.array(g, np.int64), np.array(item, np.int64), np.array(wt), n_groups)


def lingo_tokens(w: World) -> tuple[list[str], GroupSampler]:
    """All lingo tokens (community by community) and a Zipf sampler of a community's."""
    comms = w.comms
    vocab = [t for toks in comms.lingo for t in toks]
    offs = np.cumsum([0] + [len(t) for t in comms.lingo])
    groups = [list(range(offs[c], offs[c + 1])) for c in range(comms.n)]
    return vocab, _token_sampler(groups, None, comms.n)


def _words(vocab: tuple[str, ...], idx: np.ndarray) -> pa.Array:
    return pa.array([*vocab, ""]).take(pa.array(idx, pa.int64()))


def build_content(
    w: World,
    v: Videos,
    bursts: list[BurstPlan],
    campaigns: list[CampaignPlan],
    creator_ids: pa.Array,
    effect_ids: pa.Array,
) -> Content:
    cfg, comms, n = w.cfg, w.comms, v.n
    rng = np.random.default_rng(derive_seed(cfg.seed, "simulate", "content"))
    is_child = v.parent >= 0
    par = np.maximum(v.parent, 0)

    # duration
    u = rng.random(n)
    dur = np.where(u < 0.6, rng.lognormal(np.log(20), 0.5, n), rng.lognormal(np.log(45), 0.5, n))
    dur = np.where(u > 0.9, rng.uniform(60, 180, n), dur)
    dur = np.clip(np.round(dur), 5, 180).astype(np.float64)
    duet = is_child & (v.link_kind == 0)
    for _ in range(int(v.depth.max(initial=0))):
        dur[duet] = dur[par[duet]]

    # sound
    n_fixed = len(w.sound_titles)
    sig = _token_sampler(comms.sounds, None, comms.n).sample(v.vc, rng)
    glob = w.global_sounds[np.minimum(rng.zipf(1.6, n) - 1, w.global_sounds.size - 1)]
    u = rng.random(n)
    sound = np.where(u < 0.75, sig, glob)
    inherit = is_child & (v.link_kind != 1)
    original = (u < 0.45) & ~inherit
    for i, b in enumerate(bursts):
        if b.kind == "sound":
            use = v.burst == i
            sound[use] = b.sound
            original &= ~use
            inherit &= ~use  # burst videos keep the burst sound (their children reuse it)
    orig_idx = np.flatnonzero(original)
    sound[orig_idx] = n_fixed + np.arange(orig_idx.size)
    for _ in range(int(v.depth.max(initial=0))):
        sound[inherit] = sound[par[inherit]]

    # hashtags
    tag_vocab: list[str] = []
    tag_index: dict[str, int] = {}

    def tag(name: str) -> int:
        if name not in tag_index:
            tag_index[name] = len(tag_vocab)
            tag_vocab.append(name)
        return tag_index[name]

    for name in [t for t, _ in MEGA_TAGS] + list(GENERIC_TAGS) + ["duet", "stitch"]:
        tag(name)
    for tags in comms.tags:
        for t in tags:
            tag(t)
    owners, orders, values = [], [], []

    def emit(mask: np.ndarray, order: int, value: Any) -> None:
        sel = np.flatnonzero(mask)
        owners.append(sel)
        orders.append(np.full(sel.size, order))
        values.append(value[sel] if np.ndim(value) else np.full(sel.size, value))

    tag_sampler = _token_sampler(comms.tags, tag_index, comms.n)
    k = 1 + (rng.random(n) < 0.55).astype(int) + (rng.random(n) < 0.2).astype(int)
    for j in range(3):
        emit(k > j, j, tag_sampler.sample(v.vc, rng))
    for i, b in enumerate(bursts):
        if b.kind == "hashtag":
            emit(v.burst == i, 3, tag(b.item))
    for i, c in enumerate(campaigns):
        emit(v.campaign == i, 3, tag(c.tags[0]))
        emit(v.campaign == i, 4, tag(c.tags[1]))
    home, second = w.c_home[v.creator], w.c_second[v.creator]
    for ca, cb, name in w.bridges:
        inside = (v.lin == ca) | (v.lin == cb)
        crossover = ((home == ca) & (second == cb)) | ((home == cb) & (second == ca))
        p = np.where(crossover, 0.5, 0.06)
        emit(inside & (rng.random(n) < p), 5, tag(name))
    generic = np.array([tag_index[t] for t in GENERIC_TAGS])
    emit(rng.random(n) < 0.3, 6, generic[rng.integers(0, generic.size, n)])
    names = np.array([tag_index[comms.tags[c][0]] for c in range(comms.K)])
    emit(rng.random(n) < 0.04, 7, names[cdf_sample(comms.size, n, rng)])
    emit(is_child & (v.link_kind == 0) & (rng.random(n) < 0.7), 8, tag_index["duet"])
    emit(is_child & (v.link_kind == 1) & (rng.random(n) < 0.7), 8, tag_index["stitch"])
    scale = cfg.mega_tag_rate / 0.6
    for j, (name, rate) in enumerate(MEGA_TAGS):
        emit(rng.random(n) < min(1.0, rate * scale), 9 + j, tag_index[name])
    vocab = pa.array(tag_vocab, pa.string())
    hashtags = list_column(
        np.concatenate(owners), np.concatenate(orders), np.concatenate(values), vocab, n
    )

    # text
    lingo_vocab, lingo_sampler = lingo_tokens(w)
    L = len(lingo_vocab)
    lingo_arr = pa.array([*lingo_vocab, ""])

    def lingo_col(p: np.ndarray | float) -> pa.Array:
        tok = lingo_sampler.sample(v.vc, rng)
        return lingo_arr.take(pa.array(np.where(rng.random(n) < p, tok, L), pa.int64()))

    def leak_col(p: float) -> pa.Array:
        tok = rng.integers(0, L, n)
        return lingo_arr.take(pa.array(np.where(rng.random(n) < p, tok, L), pa.int64()))

    nw = len(CAPTION_WORDS)
    cnt = rng.integers(2, 7, n)
    words = [_words(CAPTION_WORDS, np.where(cnt > j, rng.integers(0, nw, n), nw)) for j in range(6)]
    has_lingo = rng.random(n) < cfg.lingo_rate
    l1 = lingo_col(has_lingo.astype(float))
    l2 = lingo_col((has_lingo & (rng.random(n) < 0.3)).astype(float))
    prefix_kind = np.where(is_child & (v.link_kind <= 1), v.link_kind, 2)
    parent_creator = creator_ids.take(pa.array(v.creator[par], pa.int64()))
    prefix = pc.if_else(
        pa.array(prefix_kind < 2),
        pc.binary_join_element_wise(
            _words(("#duet with @", "#stitch with @"), np.minimum(prefix_kind, 1)),
            parent_creator,
            "",
        ),
        "",
    )
    tag_text = pc.binary_join(hashtags, " #")
    tag_text = pc.if_else(
        pc.greater(pc.list_value_length(hashtags), 0),
        pc.binary_join_element_wise("#", tag_text, ""),
        "",
    )
    opener = _words(CAPTION_OPENERS, rng.integers(0, len(CAPTION_OPENERS), n))
    emoji = _words(EMOJI, np.where(rng.random(n) < 0.4, rng.integers(0, len(EMOJI), n), len(EMOJI)))
    description = join_words(
        [
            prefix,
            opener,
            words[0],
            words[1],
            l1,
            words[2],
            words[3],
            l2,
            words[4],
            words[5],
            leak_col(cfg.lingo_leak),
            emoji,
            tag_text,
        ]
    )
    ns = len(SPOKEN_WORDS)
    scnt = rng.integers(5, 11, n)
    spoken = [
        _words(SPOKEN_WORDS, np.where(scnt > j, rng.integers(0, ns, n), ns)) for j in range(10)
    ]
    t_lingo = rng.random(n) < 0.7 * cfg.lingo_rate
    text = join_words(
        [
            *spoken[:4],
            lingo_col(t_lingo.astype(float)),
            *spoken[4:8],
            lingo_col((t_lingo & (rng.random(n) < 0.3)).astype(float)),
            *spoken[8:],
            leak_col(cfg.lingo_leak),
        ]
    )
    transcript = pc.if_else(
        pa.array(rng.random(n) < cfg.transcript_rate), text, pa.scalar(None, pa.string())
    )

    # mentions
    owners, orders, values = [], [], []
    emit(is_child, 0, v.creator[par])
    by_home = w.creators_by_home(w.c_pop)
    emit(rng.random(n) < 0.10, 1, by_home.sample(v.lin, rng))
    pod = w.c_pod[v.creator]
    if w.pods:
        mates = GroupSampler(
            w.c_pod[w.c_pod >= 0],
            np.flatnonzero(w.c_pod >= 0),
            np.ones(int((w.c_pod >= 0).sum())),
            len(w.pods),
        )
        emit((pod >= 0) & (rng.random(n) < 0.3), 2, mates.sample(pod, rng))
    own, order_, val = (np.concatenate(x) for x in (owners, orders, values))
    ok = (val >= 0) & (val != v.creator[own])
    mentions = list_column(own[ok], order_[ok], val[ok], creator_ids, n)

    # effects
    owners, orders, values = [], [], []
    eff_sampler = _token_sampler(comms.effects, None, comms.n)
    ke = (rng.random(n) < 0.5).astype(int) + (rng.random(n) < 0.2).astype(int)
    for j in range(2):
        sig_e = eff_sampler.sample(v.vc, rng)
        glob_e = rng.integers(0, w.n_global_effects, n)
        emit(ke > j, j, np.where(rng.random(n) < 0.6, sig_e, glob_e))
    effects = list_column(
        np.concatenate(owners), np.concatenate(orders), np.concatenate(values), effect_ids, n
    )

    cats = sorted(set(comms.categories))
    cat_idx = np.array([cats.index(c) for c in comms.categories])
    categories = list_column(np.arange(n), np.zeros(n), cat_idx[v.vc], pa.array(cats), n)
    region = pa.array(list(REGIONS)).take(pa.array(w.c_region[v.creator], pa.int64()))
    return Content(
        duration=dur,
        sound=sound,
        original_creator=v.creator[orig_idx],
        original_video=orig_idx,
        n_fixed_sounds=n_fixed,
        tag_vocab=tag_vocab,
        hashtags=hashtags,
        effect_ids=effects,
        mentions=mentions,
        description=description,
        transcript=transcript,
        categories=categories,
        region=region,
    )
