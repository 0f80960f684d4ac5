"""Stage 5: comments (threads, lingo, planted toxicity) and follows.

**Comments.** A comment lands on a video with probability proportional to the video's
view weight, some time after upload (``Exp(1 day)``). With probability ``toxic_rate`` it
is toxic, split by ``toxic_mix`` into *hate*, *offensive* (harassment) and *spam*, each
filled from its templates; toxic comments come half of the time from a small pool of
troll accounts, spam 80 % of the time from spam accounts. Clean comments are written by
the video's community audience and use its lingo. Engagement-pod members add supportive
comments within the hour. Comments on one video form threads: each later comment replies
to a uniformly chosen earlier one with probability ``reply_rate`` (50 % start with
``@user``). Ids follow time order; replies are always later than their parent.

**Follows.** Viewers follow ``follows_per_viewer`` creators on average (by activity),
90 % inside one of their interest communities (by interest weight, then creator
popularity), 10 % any popular creator. Creators follow ~3 creators of their community;
pod members follow each other; fake creators get bought follows from throwaway accounts.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..core.schema import COMMENTS, FOLLOWS
from ..core.seeds import derive_seed
from .content import lingo_tokens
from .events import EventModel
from .sampling import US_PER_DAY, cdf_sample, make_ids, truncated_exp_delay, ts_array
from .words import (
    CAPTION_WORDS,
    CLEAN_TEMPLATES,
    EMOJI,
    GROUPS,
    HATE_TEMPLATES,
    OFFENSIVE_TEMPLATES,
    POD_TEMPLATES,
    SPAM_TEMPLATES,
    URLS,
    parse_template,
)

LABELS = ("clean", "hate", "offensive", "spam")
_TEMPLATES = (CLEAN_TEMPLATES, HATE_TEMPLATES, OFFENSIVE_TEMPLATES, SPAM_TEMPLATES, POD_TEMPLATES)
_SLOTS = ("{lingo}", "{word}", "{emoji}", "{group}", "{url}", "{name}")


def _texts(
    tid: np.ndarray,
    video_comm: np.ndarray,
    video_creator: np.ndarray,
    m: EventModel,
    creator_ids: pa.Array,
    rng: np.random.Generator,
) -> pa.Array:
    """Fill templates *tid* (index into the flattened template list) vectorised."""
    flat = [t for group in _TEMPLATES for t in group]
    parsed = [parse_template(t) for t in flat]
    n_slots = max(len(p) // 2 for p in parsed)
    lits: list[str] = []
    lit_idx = np.zeros((len(flat), n_slots + 1), np.int64)
    kind = np.full((len(flat), n_slots), -1, np.int64)
    for i, parts in enumerate(parsed):
        for j in range(n_slots + 1):
            s = parts[2 * j] if 2 * j < len(parts) else ""
            if s not in lits:
                lits.append(s)
            lit_idx[i, j] = lits.index(s)
            if j < n_slots and 2 * j + 1 < len(parts):
                kind[i, j] = _SLOTS.index(parts[2 * j + 1])
    lingo_vocab, lingo = lingo_tokens(m.w)
    names = pc.binary_join_element_wise("@", creator_ids, "")
    fills = pa.concat_arrays(
        [
            pa.array([""]),
            pa.array(lingo_vocab),
            pa.array(CAPTION_WORDS),
            pa.array(EMOJI),
            pa.array(GROUPS),
            pa.array(URLS),
            names.cast(pa.string()),
        ]
    )
    sizes = [len(lingo_vocab), len(CAPTION_WORDS), len(EMOJI), len(GROUPS), len(URLS)]
    offs = np.cumsum([1, *sizes])
    n = tid.size
    pieces = [pa.array(lits).take(pa.array(lit_idx[tid, 0]))]
    for j in range(n_slots):
        k = kind[tid, j]
        choice = [
            1 + lingo.sample(video_comm, rng),
            offs[1] + rng.integers(0, sizes[1], n),
            offs[2] + rng.integers(0, sizes[2], n),
            offs[3] + rng.integers(0, sizes[3], n),
            offs[4] + rng.integers(0, sizes[4], n),
            offs[5] + video_creator,
        ]
        idx = np.select([k == i for i in range(len(_SLOTS))], choice, default=0)
        pieces.append(fills.take(pa.array(idx)))
        pieces.append(pa.array(lits).take(pa.array(lit_idx[tid, j + 1])))
    return pc.binary_join_element_wise(*pieces, "")


def build_comments(
    m: EventModel, creator_ids: pa.Array, viewer_ids: pa.Array, video_ids: pa.Array
) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    """The comments table, each comment's label (index into :data:`LABELS`) and the
    number of comments per video."""
    w, v, cfg = m.w, m.v, m.w.cfg
    rng = np.random.default_rng(derive_seed(cfg.seed, "simulate", "comments"))
    pv, pu, pt = m.pod_comments or (np.zeros(0, np.int64),) * 3
    n_pod = min(pv.size, cfg.n_comments)
    pv, pu, pt = pv[:n_pod], pu[:n_pod], pt[:n_pod]
    n = cfg.n_comments - n_pod
    vid = cdf_sample(m.weight, n, rng)
    t = v.t[vid] + truncated_exp_delay(cfg.end_us - v.t[vid], float(US_PER_DAY), rng)
    cat = np.where(
        rng.random(n) < cfg.toxic_rate, 1 + cdf_sample(np.array(cfg.toxic_mix), n, rng), 0
    )
    user = m.audience.sample(np.where(rng.random(n) < 0.8, v.vc[vid], -1), rng)
    anyone = cdf_sample(w.v_act, n, rng)
    user = np.where(user >= 0, user, anyone)
    troll = (cat == 1) | (cat == 2)
    use = troll & (rng.random(n) < 0.5) & (w.trolls.size > 0)
    user[use] = w.trolls[rng.integers(0, max(w.trolls.size, 1), int(use.sum()))]
    use = (cat == 3) & (rng.random(n) < 0.8) & (w.spammers.size > 0)
    user[use] = w.spammers[rng.integers(0, max(w.spammers.size, 1), int(use.sum()))]
    pod_t = np.minimum(pt + rng.integers(30_000_000, 300_000_000, n_pod), cfg.end_us - 1)
    vid = np.concatenate([vid, pv]).astype(np.int64)
    user = np.concatenate([user, pu]).astype(np.int64)
    t = np.concatenate([t, pod_t]).astype(np.int64)
    cat = np.concatenate([cat, np.full(n_pod, 4)])
    order = np.argsort(t, kind="stable")
    vid, user, t, cat = vid[order], user[order], t[order], cat[order]
    total = t.size
    ar = np.arange(total, dtype=np.int64)
    t = np.maximum.accumulate(t - ar) + ar
    sizes = [len(g) for g in _TEMPLATES]
    toffs = np.cumsum([0, *sizes])[:-1]
    tid = toffs[cat] + (rng.random(total) * np.asarray(sizes)[cat]).astype(np.int64)
    text = _texts(tid, v.vc[vid], v.creator[vid], m, creator_ids, rng)
    # threads: sort by (video, time) and reply to an earlier comment of the same video
    by_video = np.lexsort((ar, vid))
    starts = np.flatnonzero(np.r_[True, np.diff(vid[by_video]) != 0])
    group_start = np.repeat(starts, np.diff(np.r_[starts, total]))
    pos = np.arange(total) - group_start
    reply = (pos > 0) & (rng.random(total) < cfg.reply_rate)
    parent_sorted = group_start + (rng.random(total) * pos).astype(np.int64)
    parent = np.full(total, -1, np.int64)
    parent[by_video[reply]] = by_video[parent_sorted[reply]]
    has = parent >= 0
    at = has & (rng.random(total) < 0.5)
    at_user = viewer_ids.take(pa.array(user[np.maximum(parent, 0)]))
    text = pc.if_else(pa.array(at), pc.binary_join_element_wise("@", at_user, " ", text, ""), text)
    ids = make_ids("m", total, max(5, len(str(total - 1))))
    likes = np.floor(rng.lognormal(np.where(cat == 0, 0.3, -1.0), 1.3)).astype(np.int64)
    likes = np.where(cat == 3, 0, likes)
    table = pa.Table.from_arrays(
        [
            ids,
            video_ids.take(pa.array(vid)),
            viewer_ids.take(pa.array(user)),
            pc.if_else(
                pa.array(has),
                ids.take(pa.array(np.maximum(parent, 0))),
                pa.scalar(None, pa.string()),
            ),
            text,
            ts_array(t),
            pa.array(likes, pa.int64()),
            pa.array(np.bincount(parent[has], minlength=total), pa.int64()),
            pa.repeat("simulate", total),
        ],
        schema=COMMENTS.schema,
    )
    labels = np.where(cat == 4, 0, cat)
    return table, labels, np.bincount(vid, minlength=v.n)


def build_follows(
    m: EventModel, creator_ids: pa.Array, viewer_ids: pa.Array
) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    """The follows table and each creator's follower and following counts."""
    w, cfg = m.w, m.w.cfg
    rng = np.random.default_rng(derive_seed(cfg.seed, "simulate", "follows"))
    nC = w.n_creators
    normal = ~w.v_throwaway
    F = round(normal.sum() * cfg.follows_per_viewer)
    fol = cdf_sample(w.v_act, F, rng)
    cw = np.cumsum(w.v_w[fol], axis=1)
    slot = (rng.random(F)[:, None] * cw[:, -1:] >= cw).sum(axis=1).clip(0, 2)
    comm = w.v_comm[fol, slot]
    by_home = w.creators_by_home(w.c_pop)
    fee = by_home.sample(np.where(rng.random(F) < 0.9, comm, -1), rng)
    fee = np.where(fee >= 0, fee, cdf_sample(w.c_pop, F, rng))
    span = cfg.end_us - (cfg.start_us - 365 * US_PER_DAY)
    t_v = cfg.start_us - 365 * US_PER_DAY + (rng.random(F) * span).astype(np.int64)
    # bought follows: throwaways -> fake creators
    throw = np.flatnonzero(w.v_throwaway)
    fv, fc, ft = [fol], [fee], [t_v]
    bought = np.bincount(m.v.creator, weights=m.fraud_per_video, minlength=nC)
    fake = np.flatnonzero(w.c_fake)
    if throw.size and fake.size:  # duplicates are dropped below
        k = np.minimum(throw.size, np.maximum(3, (0.3 * bought[fake]).astype(np.int64)))
        fv.append(throw[rng.integers(0, throw.size, int(k.sum()))])
        fc.append(np.repeat(fake, k))
        ft.append(rng.integers(cfg.start_us, cfg.end_us, int(k.sum())))
    fol, fee, t_v = (np.concatenate(x).astype(np.int64) for x in (fv, fc, ft))
    _, keep = np.unique(fol * nC + fee, return_index=True)
    fol, fee, t_v = fol[keep], fee[keep], t_v[keep]
    # creators follow creators of their community; pods follow each other
    n_follow = rng.poisson(3.0, nC)
    src = np.repeat(np.arange(nC), n_follow)
    dst = by_home.sample(w.c_home[src], rng)
    pods_src = [np.repeat(p, p.size) for p in w.pods]
    pods_dst = [np.tile(p, p.size) for p in w.pods]
    src = np.concatenate([src, *pods_src]).astype(np.int64)
    dst = np.concatenate([dst, *pods_dst]).astype(np.int64)
    ok = (dst >= 0) & (dst != src)
    src, dst = src[ok], dst[ok]
    _, keep = np.unique(src * nC + dst, return_index=True)
    src, dst = src[keep], dst[keep]
    t_c = cfg.start_us - 365 * US_PER_DAY + (rng.random(src.size) * span).astype(np.int64)
    table = pa.Table.from_arrays(
        [
            pa.concat_arrays([viewer_ids.take(pa.array(fol)), creator_ids.take(pa.array(src))]),
            pa.concat_arrays([creator_ids.take(pa.array(fee)), creator_ids.take(pa.array(dst))]),
            ts_array(np.concatenate([t_v, t_c])),
            pa.repeat("simulate", fol.size + src.size),
        ],
        schema=FOLLOWS.schema,
    )
    follower_count = np.bincount(fee, minlength=nC) + np.bincount(dst, minlength=nC)
    return table, follower_count, np.bincount(src, minlength=nC)
