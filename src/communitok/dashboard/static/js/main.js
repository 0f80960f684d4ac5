// Router and key handling. Routes are hashes: #/discover, #/trend/<id>, #/cascade/<id> …
import { api, getKey, setKey } from "./api.js";
import { errorNotice, h } from "./dom.js";
import * as overview from "./pages/overview.js";
import * as discover from "./pages/discover.js";
import * as trend from "./pages/trend.js";
import * as cascades from "./pages/cascades.js";
import * as runs from "./pages/runs.js";
import * as communities from "./pages/communities.js";
import * as feed from "./pages/feed.js";
import * as moderation from "./pages/moderation.js";
import * as partner from "./pages/partner.js";

const ROUTES = {
  "": overview.render,
  discover: discover.render,
  trend: trend.render,
  cascades: cascades.list,
  cascade: cascades.show,
  runs: runs.render,
  map: communities.map,
  community: communities.show,
  feed: feed.render,
  moderation: moderation.render,
  partner: partner.render,
};
// the nav entry each route belongs to
const NAV = { trend: "discover", cascade: "cascades", community: "map" };

const main = document.getElementById("main");
const announce = document.getElementById("announce");
let renderSeq = 0;
let firstRender = true;

function parse() {
  const raw = window.location.hash.replace(/^#\/?/, "");
  const [pathPart, queryPart] = raw.split("?");
  const [name, ...rest] = pathPart.split("/");
  const arg = rest.length ? decodeURIComponent(rest.join("/")) : undefined;
  return { name: name || "", arg, params: new URLSearchParams(queryPart || "") };
}

async function render() {
  const { name, arg, params } = parse();
  const page = ROUTES[name];
  const seq = ++renderSeq;
  for (const a of document.querySelectorAll("#nav a")) {
    const target = a.getAttribute("href").replace(/^#\/?/, "");
    if (target === (NAV[name] ?? name)) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const root = h("div", { "aria-busy": "true" });
  main.replaceChildren(root);
  main.dataset.page = name || "overview";
  main.dataset.ready = "false";
  if (!page) {
    root.append(h("h1", {}, "Page not found"), h("p", {}, "Use the navigation above."));
  } else {
    try {
      await page(root, arg, params);
    } catch (err) {
      if (seq === renderSeq) root.append(errorNotice(err));
    }
  }
  if (seq !== renderSeq) return;
  root.removeAttribute("aria-busy");
  main.dataset.ready = "true";
  const title = root.querySelector("h1");
  document.title = (title ? title.textContent + " · " : "") + "communitok";
  announce.textContent = title ? title.textContent + " loaded" : "";
  // after a navigation, focus the new page's heading (not on first load: keyboard users
  // start at the skip link)
  if (title && !firstRender) {
    title.setAttribute("tabindex", "-1");
    title.focus({ preventScroll: true });
  }
  firstRender = false;
}

async function showWho() {
  const who = document.getElementById("who");
  if (!getKey()) {
    who.textContent = "No key: enter an API key to see data.";
    return;
  }
  try {
    const me = await api("/me");
    who.textContent = `Signed in as ${me.name} (${me.scope})`;
  } catch (err) {
    who.textContent = "Key not accepted: " + err.message;
  }
}

function init() {
  // a key handed over in the URL fragment (#key=…) by `communitok serve` is stored
  // for this tab and removed from the address bar
  const m = window.location.hash.match(/^#key=([A-Za-z0-9_\-]+)/);
  if (m) {
    setKey(m[1]);
    history.replaceState(null, "", window.location.pathname + "#/");
  }
  document.getElementById("key-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const input = document.getElementById("api-key");
    setKey(input.value);
    input.value = "";
    showWho();
    render();
  });
  document.getElementById("sign-out").addEventListener("click", () => {
    setKey("");
    showWho();
    render();
  });
  document.getElementById("skip").addEventListener("click", (ev) => {
    ev.preventDefault();
    main.focus();
  });
  window.addEventListener("hashchange", render);
  showWho();
  render();
}

init();
