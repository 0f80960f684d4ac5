"""Known-answer checks: the planted truth is really in the simulated data."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from communitok.simulate import SimConfig, SimResult, simulate
from communitok.simulate.words import GROUPS, URLS


@pytest.fixture(scope="module")
def frames(rich: SimResult) -> dict[str, pd.DataFrame]:
    t = rich.truth
    vt = t.table("video_truth").to_pandas().set_index("video_id")
    videos = rich["videos"].to_pandas().set_index("video_id")
    ev = rich["events"].to_pandas()
    interest: dict[tuple[str, str], float] = defaultdict(float)
    for r in t.table("viewer_interests").to_pylist():
        interest[(r["viewer_id"], r["community_id"])] += r["weight"]
        if r["late_community_id"] != r["community_id"]:
            interest[(r["viewer_id"], r["late_community_id"])] += r["weight"]
    ev["community"] = vt.loc[ev.video_id, "community_id"].to_numpy()
    ev["duration"] = videos.loc[ev.video_id, "duration_s"].to_numpy()
    ev["x"] = [interest.get(k, 0.0) for k in zip(ev.viewer_id, ev.community, strict=True)]
    planted = set(t.table("accounts").column("account_id").to_pylist())
    ev["organic"] = ~ev.viewer_id.isin(planted)
    return {"vt": vt, "videos": videos, "events": ev}


def test_viewers_watch_their_communities_more(frames: dict) -> None:
    ev = frames["events"]
    org = ev[ev.organic].assign(
        frac=lambda d: d.watch_time_s / d.duration, inside=lambda d: d.x > 0
    )
    assert org.inside.mean() > 0.75  # most impressions come from the video's own audience
    g = org.groupby("inside")[
        ["frac", "completed", "liked", "shared", "skipped", "not_interested"]
    ].mean()
    assert g.loc[True, "frac"] > 2 * g.loc[False, "frac"]
    assert g.loc[True, "completed"] > 3 * g.loc[False, "completed"]
    assert g.loc[True, "liked"] > 5 * g.loc[False, "liked"]
    assert g.loc[True, "shared"] > g.loc[False, "shared"]
    assert g.loc[True, "skipped"] < 0.5 * g.loc[False, "skipped"]
    assert g.loc[True, "not_interested"] < g.loc[False, "not_interested"]
    # duration: short videos complete more often, yet long ones are watched for longer
    fans = org[org.x > 0.5]
    short, long_ = fans[fans.duration <= 30], fans[fans.duration >= 60]
    assert short.completed.mean() > long_.completed.mean() + 0.1
    assert long_.watch_time_s.mean() > 2 * short.watch_time_s.mean()
    assert long_.frac.mean() > 0.4  # not watched less in proportion to length


def test_lingo_is_elevated_in_its_community(rich: SimResult, frames: dict) -> None:
    vt, videos = frames["vt"], frames["videos"]
    words = videos.description.str.split().apply(set)
    comments = rich["comments"].to_pandas()
    comment_words = comments.text.str.split().apply(set)
    comment_comm = vt.loc[comments.video_id, "community_id"].to_numpy()
    for c in rich.truth.communities:
        if c.kind != "base" or c.active_to is not None:  # merged/split ones pass lingo on
            continue
        lingo = {w for w in c.lingo if " " not in w}
        uses = words.apply(lambda s, lingo=lingo: bool(s & lingo)).to_numpy()
        inside = (vt.loc[videos.index, "community_id"] == c.id).to_numpy()
        assert uses[inside].mean() > 0.4, c.name
        assert uses[~inside].mean() < 0.03, c.name
        cu = comment_words.apply(lambda s, lingo=lingo: bool(s & lingo)).to_numpy()
        cin = comment_comm == c.id
        if cin.sum() > 50:
            assert cu[cin].mean() > 5 * max(cu[~cin].mean(), 0.002), c.name


def test_hashtags_distinctive_and_mega_tags_global(rich: SimResult, frames: dict) -> None:
    vt, videos = frames["vt"], frames["videos"]
    comm = vt.loc[videos.index, "community_id"]
    t = rich.truth
    assert {"fyp", "foryou", "viral"} <= set(t.mega_tags)
    for c in t.communities:
        if c.kind != "base" or c.active_to is not None:
            continue
        mine = videos.hashtags[comm == c.id]
        assert mine.apply(lambda h: "fyp" in h).mean() > 0.4
        with_tag = videos.hashtags.apply(lambda h, c=c: c.hashtags[0] in h)
        assert (comm[with_tag] == c.id).mean() > 0.5, c.name


def test_toxic_comments_at_the_configured_rate(rich: SimResult) -> None:
    labels = rich.truth.table("comment_labels").to_pandas()
    text = rich["comments"].to_pandas().set_index("comment_id").text
    n = len(labels)
    toxic = (labels.label != "clean").mean()
    rate = rich.config.toxic_rate
    pods = rich.truth.fake_engagement.n_pod_events  # pod comments are clean and extra
    assert abs(toxic - rate) < 4 * np.sqrt(rate * (1 - rate) / n) + pods * 0.4 / n
    share = labels.label[labels.label != "clean"].value_counts(normalize=True)
    for label, want in zip(("hate", "offensive", "spam"), rich.config.toxic_mix, strict=True):
        assert abs(share[label] - want) < 0.08
    assert rich.truth.label_counts == dict(Counter(labels.label)) | {
        k: 0 for k in ("clean", "hate", "offensive", "spam") if k not in set(labels.label)
    }
    for cid in labels.comment_id[labels.label == "hate"]:
        assert any(g in text[cid] for g in GROUPS)
    spam = text[labels.comment_id[labels.label == "spam"]]
    assert spam.str.contains("|".join(["follow", "free", "dm me", *URLS]), regex=True).all()


def test_cascades_heavy_tailed_and_consistent(rich: SimResult) -> None:
    cas = rich.truth.table("cascades").to_pandas()
    links = rich["cocreation_links"].num_rows
    assert (cas["size"] - 1).sum() == links
    assert (cas[["n_duet", "n_stitch", "n_sound_reuse"]].sum(axis=1) == cas["size"] - 1).all()
    sizes = np.sort(cas["size"].to_numpy())[::-1]
    assert sizes[0] >= 8 * np.median(sizes)
    assert sizes[: max(1, len(sizes) // 10)].sum() > 0.3 * sizes.sum()
    assert cas.depth.max() >= 3  # chains: stitches of stitches
    vt = rich.truth.table("video_truth").to_pandas().set_index("video_id")
    kids = vt[vt.parent_video_id.notna()]
    assert (kids.index > kids.parent_video_id).all()  # ids follow upload order
    assert (
        vt.loc[kids.parent_video_id, "cascade_root_id"].to_numpy()
        == kids.cascade_root_id.to_numpy()
    ).all()


def test_bursts_take_off_in_their_window(rich: SimResult, frames: dict) -> None:
    videos, vt = frames["videos"], frames["vt"]
    start = rich.truth.window_start
    assert rich.truth.bursts
    for b in rich.truth.bursts:
        if b.item_kind == "hashtag":
            uses = videos.hashtags.apply(lambda h, b=b: b.item in h)
        else:
            uses = videos.sound_id == b.item
        home = uses & (vt.loc[videos.index, "community_id"] == b.community)
        t = videos.created_at[home]
        inside = (t >= b.start) & (t <= b.end)
        burst_days = (b.end - b.start) / timedelta(days=1)
        rate_in = inside.sum() / burst_days
        rate_out = (~inside).sum() / (rich.config.days - burst_days)
        assert rate_in > 4 * max(rate_out, 0.1), b.id
        assert b.magnitude > 5 and b.start < b.peak < b.end
        burst_videos = vt[(vt.burst_id == b.id) & (vt.burst_role == "burst")].index
        assert len(burst_videos) == b.n_videos
        assert (
            (videos.created_at[burst_videos] >= b.start)
            & (videos.created_at[burst_videos] <= b.end)
        ).all()
        for spill in b.spilled_into:
            there = uses & (vt.loc[videos.index, "community_id"] == spill.community)
            lag = timedelta(days=spill.lag_days)
            late = videos.created_at[there] >= b.start + lag
            assert late.sum() >= spill.n_videos
        assert (videos.created_at[uses] >= start).all()


def test_evolution_births_merges_splits(rich: SimResult, frames: dict) -> None:
    t = rich.truth
    videos, vt = frames["videos"], frames["vt"]
    when = videos.created_at
    comm = vt.loc[videos.index, "community_id"]
    kinds = {e.kind: e for e in t.evolution}
    assert set(kinds) == {"birth", "merge", "split"}
    born = kinds["birth"].results[0]
    assert (when[comm == born] >= kinds["birth"].time).all() and (comm == born).sum() > 0
    merge, split = kinds["merge"], kinds["split"]
    assert (when[comm.isin(merge.sources)] < merge.time).all()
    assert (when[comm.isin(merge.results)] >= merge.time).all()
    assert (when[comm.isin(split.sources)] < split.time).all()
    assert all((comm == r).sum() > 0 for r in split.results)
    before = {c.id for c in t.communities_at(merge.time - timedelta(seconds=1))}
    after = {c.id for c in t.communities_at(merge.time)}
    assert set(merge.sources) <= before and not set(merge.sources) & after
    assert set(merge.results) <= after
    # after the merge the two audiences watch each other's videos: the share of b's
    # impressions that come from viewers interested only in a jumps
    ev = frames["events"]
    a, b = merge.sources
    vi = t.table("viewer_interests").to_pandas()
    only_a = set(vi.viewer_id[vi.community_id == a]) - set(vi.viewer_id[vi.community_id == b])
    lineage = vt.loc[ev.video_id, "lineage_community_id"].to_numpy()
    posted = videos.created_at.loc[ev.video_id].to_numpy()
    from_a = ev.viewer_id.isin(only_a).to_numpy()
    on_b = lineage == b
    pre, post = on_b & (posted < merge.time), on_b & (posted >= merge.time)
    assert from_a[post].mean() > 3 * from_a[pre].mean()


def test_follows_match_interests(rich: SimResult) -> None:
    t = rich.truth
    home = t.creator_home()
    interests = defaultdict(set)
    for r in t.table("viewer_interests").to_pylist():
        interests[r["viewer_id"]].add(r["community_id"])
    f = rich["follows"].to_pandas()
    viewers = f[f.follower_id.str.startswith("u")]
    planted = set(t.table("accounts").column("account_id").to_pylist())
    viewers = viewers[~viewers.follower_id.isin(planted)]
    inside = [
        home[c] in interests[u]
        for u, c in zip(viewers.follower_id, viewers.followee_id, strict=True)
    ]
    assert np.mean(inside) > 0.75


def test_bought_engagement_and_pods(rich: SimResult, frames: dict) -> None:
    t = rich.truth
    ev, vt, videos = frames["events"], frames["vt"], frames["videos"]
    acc = t.table("accounts").to_pandas()
    throw = set(acc.account_id[acc.role == "throwaway"])
    fake = set(t.fake_engagement.creators)
    bought = ev[ev.viewer_id.isin(throw)]
    assert len(bought) == t.fake_engagement.n_bought_events > 0
    assert set(videos.creator_id[bought.video_id]) <= fake
    assert set(bought.video_id) == set(vt.index[vt.is_boosted])
    assert bought.liked.mean() > 0.8 and bought.watch_time_s.mean() < 3
    organic = ev[ev.organic]
    assert organic.liked.mean() < 0.3
    assert t.pods
    posted = videos.created_at
    for pod in t.pods:
        members = set(pod.members)
        pe = ev[ev.viewer_id.isin(members)]
        for vid in videos.index[videos.creator_id.isin(members)]:
            got = pe[pe.video_id == vid]
            others = members - {videos.creator_id[vid]}
            assert set(got.viewer_id) >= others
            lag = got.ts[got.viewer_id.isin(others)] - posted[vid]
            assert (lag > timedelta(0)).all() and (lag <= timedelta(hours=1)).all()


def _campaign_lift(r: SimResult) -> float:
    """Lift of treated over control like rates (stratified; see the simulator docs)."""
    t = r.truth
    (c,) = t.campaigns
    ev = r["events"].to_pandas()
    vt = t.table("video_truth").to_pandas().set_index("video_id")
    ev["community"] = vt.loc[ev.video_id, "community_id"].to_numpy()
    vi = t.table("viewer_interests").to_pandas()
    x = vi[vi.community_id == c.target_community].groupby("viewer_id").weight.sum()
    arms = t.table("campaign_assignments").to_pandas()
    arms = (
        arms[(arms.campaign_id == c.id) & (arms.entity_kind == "viewer")].set_index("entity_id").arm
    )
    assert len(arms) == c.n_treated_viewers + c.n_control_viewers
    camp_videos = set(vt.index[vt.campaign_id == c.id])
    assert len(camp_videos) == c.n_videos
    seen = ev[ev.video_id.isin(camp_videos)]
    assert not seen.viewer_id.map(arms).eq("control").any()  # control is never exposed
    e = ev[(ev.ts >= c.start) & (ev.ts < c.end) & (ev.community == c.target_community)]
    e = e.assign(arm=e.viewer_id.map(arms), x=e.viewer_id.map(x)).dropna(subset=["arm"])
    # compare like rates within strata of interest and watch outcome (heavy-tailed activity
    # makes raw arm means noisy), then pool: treated likes / likes expected at control rates
    e["stratum"] = pd.cut(e.x, np.linspace(0, 1.0001, 11))
    keys = ["stratum", "completed", "skipped", "arm"]
    g = e.groupby(keys, observed=True).liked.agg(["sum", "count"]).unstack().dropna()
    expected = (g[("sum", "control")] / g[("count", "control")] * g[("count", "treated")]).sum()
    return float(g[("sum", "treated")].sum() / expected - 1)


@pytest.mark.parametrize("lift", [0.0, 1.0])
def test_campaign_lift_is_recoverable(lift: float) -> None:
    cfg = SimConfig.preset(
        "tiny",
        seed=4,
        n_communities=3,
        evolution=False,
        n_bridges=0,
        n_viewers=1_500,
        n_events=100_000,
        campaign_lift=lift,
    )
    r = simulate(cfg)
    assert r.truth.campaigns[0].lift == lift
    assert abs(_campaign_lift(r) - lift) < 0.25


def test_bridges_share_hashtags_and_creators(rich: SimResult, frames: dict) -> None:
    videos, vt = frames["videos"], frames["vt"]
    comm = vt.loc[videos.index, "community_id"]
    assert rich.truth.bridges
    for br in rich.truth.bridges:
        used = videos.hashtags.apply(lambda h, br=br: br.hashtag in h)
        assert set(comm[used]) >= set(br.communities)
        assert len(br.creators) >= 2
        for cr in br.creators:
            assert set(comm[videos.creator_id == cr]) & set(br.communities)


def test_truth_bundle_facts_are_consistent(rich: SimResult) -> None:
    t = rich.truth
    cc = t.table("creator_communities").to_pandas().set_index("creator_id")
    for c in t.communities:
        assert c.hashtags and c.lingo and c.sounds and c.effects and c.core_creators
        if c.kind == "base":
            assert (cc.loc[list(c.core_creators), "community_id"] == c.id).all()
    vi = t.table("viewer_interests").to_pandas()
    sums = vi.groupby("viewer_id").weight.sum()
    assert np.allclose(sums, 1.0, atol=1e-5)
    assert vi.groupby("viewer_id").size().max() <= 3
    assert t.community(t.communities[0].name) == t.communities[0]
