"""Click through every dashboard page in headless Chromium and check real content."""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import EVIL, open_signed_in, ready, shot


def test_overview_shows_store_and_runs(
    tab: Any, server: dict[str, Any], timings: dict[str, float]
) -> None:
    timings["overview"] = open_signed_in(tab, server, "admin")
    assert "#key=" not in tab.url  # the key left the address bar
    main = tab.locator("main")
    assert main.locator("h1").inner_text() == "Overview"
    assert tab.locator("#who").inner_text().startswith("Signed in as dashboard admin (admin)")
    card = main.locator(".card", has_text="videos")
    assert card.locator(".value").inner_text() == "800"
    assert main.locator("table >> tbody tr").count() >= 1
    assert "Trends and Discover" in main.inner_text()
    shot(tab, "overview")


def test_discover_trend_and_forecast(
    tab: Any, server: dict[str, Any], timings: dict[str, float]
) -> None:
    open_signed_in(tab, server, "analyst")
    tab.get_by_role("link", name="Discover").click()
    timings["discover"] = ready(tab, "discover")
    rows = tab.locator("main table tbody tr")
    assert rows.count() >= 1
    assert tab.locator("main svg.spark polyline").count() >= 1
    assert tab.locator("main .badge").first.inner_text() in {
        "emerging", "rising", "peaking", "declining", "evergreen", "dormant"}  # fmt: skip
    shot(tab, "discover")
    # filter by kind with the form (keyboard-free path: select + Apply)
    kind = rows.first.locator("td").nth(1).inner_text()
    tab.select_option("#d-kind", kind)
    tab.get_by_role("button", name="Apply").click()
    tab.wait_for_function("() => location.hash.includes('kind=')")
    ready(tab, "discover")
    kinds = tab.locator("main table tbody tr td:nth-child(3)").all_inner_texts()
    assert kinds and set(kinds) == {kind}
    # open the first trend
    first = tab.locator("main table tbody tr th a").first
    name = first.inner_text()
    first.click()
    timings["trend"] = ready(tab, "trend")
    assert name.lstrip("#") in tab.locator("main h1").inner_text()
    tab.wait_for_selector('main .chart[data-plotted="true"] .main-svg')
    assert tab.locator("main table", has_text="Bursts").count() == 1
    tab.get_by_role("button", name="Forecast the next 7 days").click()
    tab.wait_for_selector("text=Forecast ready")
    assert (
        tab.locator("main table", has=tab.locator("caption", has_text="Forecast"))
        .locator("tbody tr")
        .count()
        == 7
    )
    shot(tab, "trend")


def test_cascade_explorer_tree(tab: Any, server: dict[str, Any], timings: dict[str, float]) -> None:
    open_signed_in(tab, server, "analyst")
    tab.get_by_role("link", name="Cascades").click()
    timings["cascades"] = ready(tab, "cascades")
    sizes = [int(x) for x in tab.locator("main table tbody tr td:nth-child(2)").all_inner_texts()]
    assert sizes and sizes == sorted(sizes, reverse=True)
    shot(tab, "cascades")
    root = tab.locator("main table tbody tr th a").first
    root_id = root.inner_text()
    root.click()
    timings["cascade"] = ready(tab, "cascade")
    assert root_id in tab.locator("main h1").inner_text()
    tab.wait_for_selector('main .chart[data-plotted="true"] .main-svg')
    tree = tab.locator("ul.tree")
    assert tree.locator("li").count() == sizes[0]
    assert root_id in tree.locator("summary").first.inner_text()
    # keyboard: focus the root's summary and collapse it with Enter
    summary = tree.locator("summary").first
    summary.focus()
    tab.keyboard.press("Enter")
    assert tree.locator("details").first.get_attribute("open") is None
    tab.keyboard.press("Enter")
    assert tree.locator("details").first.get_attribute("open") is not None
    shot(tab, "cascade")


def test_runs_page_filters(tab: Any, server: dict[str, Any], timings: dict[str, float]) -> None:
    open_signed_in(tab, server, "analyst")
    tab.get_by_role("link", name="Runs").click()
    timings["runs"] = ready(tab, "runs")
    assert tab.locator("main table tbody tr").count() >= 3
    tab.fill("#runs-kind", "cascades-build")
    tab.get_by_role("button", name="Filter").click()
    tab.wait_for_function("() => location.hash.includes('kind=cascades-build')")
    ready(tab, "runs")
    kinds = tab.locator("main table tbody tr td:nth-child(2)").all_inner_texts()
    assert kinds and set(kinds) == {"cascades-build"}
    shot(tab, "runs")


def test_moderation_queue_decide_and_check(
    tab: Any, server: dict[str, Any], timings: dict[str, float]
) -> None:
    if not server["app"].state.features["safety"]:
        pytest.skip("no safety API on this server")
    open_signed_in(tab, server, "analyst")
    tab.get_by_role("link", name="Moderation").click()
    timings["moderation"] = ready(tab, "moderation")
    row = tab.locator("main table tbody tr", has_text="evil-1")
    assert row.count() == 1
    # the hostile comment shows as text: no element, no script ran
    assert row.locator(".queue-text").inner_text() == EVIL
    assert tab.locator("main img").count() == 0
    assert tab.evaluate("() => window.__pwned") is None
    shot(tab, "moderation")
    row.get_by_role("button", name="Hide").click()
    tab.wait_for_selector("text=comment evil-1: now hidden.")
    assert tab.locator("main table tbody tr", has_text="evil-1").count() == 0
    health = tab.request.get(
        f"{server['url']}/v1/safety/health",
        headers={"Authorization": f"Bearer {server['keys']['analyst']}"},
    )
    if health.ok:
        assert tab.locator("main table", has_text="Flagged share").locator("tbody tr").count() >= 1
    else:  # a known engine issue (community_members schema): the page says so
        assert "Error:" in tab.locator("main").inner_text()
    tab.fill("#check-text", "what a lovely cozy reading nook")
    tab.get_by_role("button", name="Classify").click()
    tab.wait_for_selector("#check-result >> text=Category")
    assert "→ label" in tab.locator("#check-result").inner_text()


def test_community_map_and_page(
    tab: Any, server: dict[str, Any], timings: dict[str, float]
) -> None:
    if not server["app"].state.features["communities"]:
        pytest.skip("no communities API on this server")
    open_signed_in(tab, server, "analyst")
    tab.get_by_role("link", name="Community map").click()
    timings["map"] = ready(tab, "map")
    tab.wait_for_selector('main .chart[data-plotted="true"] .main-svg')
    table = tab.locator("main table", has=tab.locator("caption", has_text="Communities"))
    names = table.locator("tbody th a").all_inner_texts()
    assert len(names) >= 2 and all(" · " in n for n in names)
    assert tab.locator("main .chart .scatterlayer .point").count() >= len(names)
    shot(tab, "community-map")
    table.locator("tbody th a").first.click()
    timings["community"] = ready(tab, "community")
    assert tab.locator("main h1").inner_text() == names[0]
    lingo = tab.locator("main table", has=tab.locator("caption", has_text="over-represented"))
    assert lingo.locator("tbody tr").count() >= 1
    text = tab.locator("main").inner_text()
    for section in ("Sounds, effects and creators", "Growth", "Safety health", "Bridges"):
        assert section in text
    shot(tab, "community")


def test_feed_preview_with_why_and_live_update(
    tab: Any, server: dict[str, Any], timings: dict[str, float]
) -> None:
    if not server["app"].state.features["feed"]:
        pytest.skip("no feed API on this server")
    open_signed_in(tab, server, "admin")
    tab.get_by_role("link", name="Feed preview").click()
    ready(tab, "feed")
    viewer = server["engine"].store.read("viewers", ["viewer_id"], limit=1).column(0)[0].as_py()
    tab.fill("#f-viewer", viewer)
    tab.get_by_role("button", name="Show feed").click()
    tab.wait_for_function("() => location.hash.includes('viewer=')")
    timings["feed"] = ready(tab, "feed", timeout_ms=30_000)
    items = tab.locator("ol.feed > li")
    assert items.count() == 20
    whys = items.locator(".why").all_inner_texts()
    assert all(w.startswith("Why: ") and len(w) > 6 for w in whys)
    first = items.first.get_attribute("data-video")
    shot(tab, "feed")
    items.first.get_by_role("button", name="Simulate: not interested").click()
    tab.wait_for_selector("#feed-status >> text=updated the live session")
    assert first in tab.locator("#feed-status").inner_text()  # "removed: <first>"
    videos = tab.locator("ol.feed > li").evaluate_all("els => els.map(e => e.dataset.video)")
    assert first not in videos and len(videos) == 20
    assert tab.locator("ol.feed .badge.ok", has_text="new").count() >= 1
    shot(tab, "feed-after-event")


def test_pages_without_api_say_not_available(
    tab: Any, server: dict[str, Any], timings: dict[str, float]
) -> None:
    open_signed_in(tab, server, "admin")
    features = server["app"].state.features
    for link, route, feature in (("Community map", "map", "communities"), ("Feed preview", "feed", "feed"),
                                 ("Partner", "partner", "partner")):  # fmt: skip
        tab.get_by_role("link", name=link).click()
        timings[route] = ready(tab, route)
        text = tab.locator("main").inner_text()
        if features[feature]:
            assert "Not available yet" not in text
        else:
            assert "Not available yet" in text, text
            shot(tab, f"{route}-not-available")


def test_partner_sees_only_protected_figures(tab: Any, server: dict[str, Any]) -> None:
    open_signed_in(tab, server, "partner", "partner")
    key = {"Authorization": f"Bearer {server['keys']['partner']}"}
    if tab.request.get(f"{server['url']}/v1/safety/partner-health", headers=key).ok:
        table = tab.locator("main table", has_text="Commenters")
        counts = [
            int(x.replace(",", ""))
            for x in table.locator("tbody tr td:nth-child(2)").all_inner_texts()
        ]
        assert counts and min(counts) >= server["app"].state.api.privacy_k
    tab.get_by_role("link", name="Runs").click()
    ready(tab, "runs")
    assert "Not allowed" in tab.locator("main").inner_text()
    tab.get_by_role("link", name="Discover").click()
    ready(tab, "discover")
    assert tab.locator("main table th", has_text="Viewers").count() == 1
    shot(tab, "partner-discover")


def test_partner_flow(tab: Any, server: dict[str, Any], timings: dict[str, float]) -> None:
    """Brief → matches → content brief → ambassadors → read-out, as a partner, by keyboard."""
    if not server["app"].state.features["partner"]:
        pytest.skip("no partner API on this server")
    key = {"Authorization": f"Bearer {server['keys']['analyst']}"}
    top = tab.request.get(f"{server['url']}/v1/communities?limit=1", headers=key).json()
    community = top["items"][0]
    tag = community["top_hashtags"][0]
    k = server["app"].state.api.privacy_k
    open_signed_in(tab, server, "partner", "partner")
    assert "Not available yet" not in tab.locator("main").inner_text()
    tab.fill("#p-brief", f"{tag} fans and creators")
    tab.fill("#p-exclude", "politics")
    tab.locator("#brief-form button[type=submit]").focus()
    tab.keyboard.press("Enter")
    tab.wait_for_function("() => location.hash.includes('brief=')")
    timings["partner-match"] = ready(tab, "partner")
    matches = tab.locator("main table", has=tab.locator("caption", has_text="fit the brief"))
    first = matches.locator("tbody tr").first
    assert first.locator("a").inner_text() == community["name"]
    assert tag in first.locator("td").last.inner_text()  # why: the matched terms
    viewers = [int(x.replace(",", "")) for x in
               matches.locator("tbody tr td:nth-child(4)").all_inner_texts()]  # fmt: skip
    assert viewers and min(viewers) >= k
    shot(tab, "partner-matches")
    first.locator("a").focus()
    tab.keyboard.press("Enter")
    tab.wait_for_function("() => location.hash.includes('community=')")
    timings["partner-plan"] = ready(tab, "partner")
    assert tab.locator("#brief-community").inner_text() == community["name"]
    # the listening report: the API's figures, every row on k or more viewers
    listen = tab.request.get(
        f"{server['url']}/v1/partner/communities/{community['community_id']}/listen",
        headers={"Authorization": f"Bearer {server['keys']['partner']}"},
    ).json()
    if listen["status"] == "ok":
        assert f"{listen['n_people']:,} viewers" in tab.locator("#listen-summary").inner_text()
        tops = tab.locator("main table", has=tab.locator("caption", has_text="Top hashtags"))
        assert tops.locator("tbody tr").count() == min(10, len(listen["top_hashtags"]))
        first_tag = tops.locator("tbody tr th").first.inner_text()
        assert first_tag == "#" + listen["top_hashtags"][0]["item"]
        seen = [int(x.replace(",", "")) for x in
                tops.locator("tbody tr td:nth-child(2)").all_inner_texts()]  # fmt: skip
        assert min(seen) >= k
    else:
        assert "Abstains" in tab.locator("main").inner_text()
    use = tab.locator("main table", has=tab.locator("caption", has_text="Hashtags to use"))
    assert use.locator("tbody tr").count() >= 1
    assert use.locator("tbody tr th").first.inner_text().startswith("#")
    amb = tab.locator("main table", has=tab.locator("caption", has_text="Ambassadors"))
    assert amb.locator("tbody tr").count() >= 1
    reach = [int(x.replace(",", "")) for x in
             amb.locator("tbody tr td:nth-child(4)").all_inner_texts()]  # fmt: skip
    assert min(reach) >= k
    shot(tab, "partner-plan")
    # the test plan before launch: power / smallest detectable lift, with ranges
    tab.locator("#plan-form button[type=submit]").focus()
    tab.keyboard.press("Enter")
    tab.wait_for_selector("#plan-result >> text=/Smallest detectable|Abstains/")
    planned = tab.locator("#plan-result").inner_text()
    api_plan = tab.request.post(
        f"{server['url']}/v1/partner/campaigns/plan",
        headers={"Authorization": f"Bearer {server['keys']['partner']}"},
        data={"community_id": community["community_id"], "design": "randomised", "days": 7,
              "lift": 0.1},
    ).json()  # fmt: skip
    if api_plan["status"] == "ok":
        assert "Smallest detectable lift" in planned and "% range" in planned
        assert f"{api_plan['plan']['reach']:,}" in planned  # the API's figures, shown
        curve = tab.locator("#plan-result table", has=tab.locator("caption",
                            has_text="Detectable lift by audience size"))  # fmt: skip
        assert curve.locator("tbody tr").count() == len(api_plan["curve"])
    else:
        assert "Abstains" in planned and api_plan["reason"] in planned
    shot(tab, "partner-test-plan")
    assert tab.locator("#r-hashtags").input_value()  # prefilled from the content brief
    tab.locator("#readout-form button[type=submit]").focus()
    tab.keyboard.press("Enter")
    tab.wait_for_selector("#readout-result >> text=/Lift|Abstains/")
    out = tab.locator("#readout-result").inner_text()
    assert "interval" in out or "Abstains" in out
    shot(tab, "partner-readout")
    # feed experiment read-out: per variant, raw and CUPED, as the API reports it
    tab.fill("#x-experiment", "aa")
    tab.locator("#experiment-form button[type=submit]").focus()
    tab.keyboard.press("Enter")
    tab.wait_for_selector("#experiment-result >> text=/Variants against|Abstains/")
    api_exp = tab.request.get(
        f"{server['url']}/v1/partner/experiments/aa/readout?control=control&metric=liked",
        headers={"Authorization": f"Bearer {server['keys']['partner']}"},
    ).json()
    shown = tab.locator("#experiment-result").inner_text()
    if api_exp["status"] == "ok":
        var = tab.locator("#experiment-result table")
        assert var.locator("tbody tr").count() == len(api_exp["variants"]) >= 2
        assert "CUPED difference" in shown and "control" in shown
        for v in api_exp["variants"]:
            assert v["n_people"] >= k and f"{v['n_people']:,}" in shown
    else:
        assert "Abstains" in shown and api_exp["reason"] in shown
    shot(tab, "partner-experiment")
    assert tab.locator("main img").count() == 0


def test_script_in_key_name_is_shown_as_text(tab: Any, server: dict[str, Any]) -> None:
    open_signed_in(tab, server, "evil")
    assert tab.locator("main .key-name").inner_text() == EVIL
    assert EVIL in tab.locator("#who").inner_text()
    assert tab.locator("img").count() == 0
    assert tab.evaluate("() => window.__pwned") is None


def test_signed_out_and_bad_key(tab: Any, server: dict[str, Any]) -> None:
    tab.goto(server["url"] + "/#/discover")
    ready(tab, "discover")
    assert "Sign in" in tab.locator("main").inner_text()
    tab.fill("#api-key", "ctk_00000000_" + "x" * 40)
    tab.get_by_role("button", name="Use key").click()
    tab.wait_for_selector("#who >> text=Key not accepted")


def test_keyboard_navigation(tab: Any, server: dict[str, Any]) -> None:
    open_signed_in(tab, server, "analyst")
    tab.keyboard.press("Tab")
    assert tab.evaluate("() => document.activeElement.id") == "skip"
    tab.keyboard.press("Enter")
    assert tab.evaluate("() => document.activeElement.id") == "main"
    # tab through the navigation to Discover and follow it with Enter
    tab.locator("#nav a").first.focus()
    for _ in range(10):
        if tab.evaluate("() => document.activeElement.textContent") == "Discover":
            break
        tab.keyboard.press("Tab")
    tab.keyboard.press("Enter")
    ready(tab, "discover")
    # focus moves to the new page's heading, and the nav marks the current page
    assert tab.evaluate("() => document.activeElement.tagName") == "H1"
    assert tab.locator('#nav a[aria-current="page"]').inner_text() == "Discover"


ROUTES = ["", "discover", "cascades", "runs", "moderation", "map", "feed", "partner"]


@pytest.mark.parametrize("route", ROUTES, ids=[r or "overview" for r in ROUTES])
def test_accessibility_basics(tab: Any, server: dict[str, Any], route: str) -> None:
    """Labels on every control, names on images and regions, AA contrast for text."""
    open_signed_in(tab, server, "admin", route)
    report = tab.evaluate(A11Y_JS)
    assert report["unlabelled"] == [], report["unlabelled"]
    assert report["unnamed_images"] == [], report["unnamed_images"]
    assert report["low_contrast"] == [], report["low_contrast"]
    assert tab.locator("html").get_attribute("lang") == "en"
    assert tab.locator("main h1").count() == 1


def test_small_screen_layout(chromium: Any, server: dict[str, Any]) -> None:
    ctx = chromium.new_context(viewport={"width": 390, "height": 844})
    pg = ctx.new_page()
    pg.goto(f"{server['url']}/#key={server['keys']['analyst']}")
    ready(pg, "overview")
    pg.evaluate("() => { window.location.hash = '#/discover'; }")
    ready(pg, "discover")
    overflow = pg.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"page wider than the screen by {overflow}px"
    shot(pg, "discover-mobile")
    ctx.close()


A11Y_JS = r"""
() => {
  const lum = (rgb) => {
    const c = rgb.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const parse = (s) => { const m = s.match(/rgba?\(([^)]+)\)/); if (!m) return null;
    const p = m[1].split(",").map(Number); return { rgb: p.slice(0, 3), a: p.length > 3 ? p[3] : 1 }; };
  const bg = (el) => { for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor); if (c && c.a > 0.5) return c.rgb; }
    return [255, 255, 255]; };
  const unlabelled = [...document.querySelectorAll("input, select, textarea")]
    .filter((el) => el.type !== "hidden" && !(el.labels && el.labels.length) && !el.getAttribute("aria-label"))
    .map((el) => el.id || el.name || el.outerHTML.slice(0, 60));
  const unnamed_images = [...document.querySelectorAll("img, svg.spark, .chart")]
    .filter((el) => !(el.getAttribute("aria-label") || el.getAttribute("alt")))
    .map((el) => el.outerHTML.slice(0, 60));
  const low_contrast = [];
  for (const el of document.querySelectorAll("body *")) {
    if (el.closest(".chart, svg")) continue;
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.offsetParent) continue;
    const fg = parse(getComputedStyle(el).color); if (!fg) continue;
    const a = lum(fg.rgb), b = lum(bg(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) low_contrast.push(`${el.tagName}.${el.className}: ${ratio.toFixed(2)} "${el.textContent.trim().slice(0, 30)}"`);
  }
  return { unlabelled, unnamed_images, low_contrast };
}
"""
