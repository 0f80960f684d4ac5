// One trend: its series with bursts shaded, lifecycle, spill-overs, and a forecast on demand.
import { api } from "../api.js";
import { badge, chart, errorNotice, facts, h, num, plotText, table, when } from "../dom.js";

export async function render(root, id) {
  root.append(h("h1", {}, "Trend ", h("code", {}, id || "")));
  if (!id) return;
  let d;
  try {
    d = await api("/trends/" + encodeURIComponent(id), { query: { grain: "day" } });
  } catch (err) {
    root.append(errorNotice(err, "trends"));
    return;
  }
  const lc = d.lifecycle[0] || {};
  root.append(facts([
    ["Lifecycle stage", badge(d.stage || "unknown")],
    ["Bursts", String(d.bursts.length)],
    ["Level / slope", `${num(lc.level)} / ${num(lc.slope)}`],
    ...(d.n_viewers != null ? [["Distinct viewers", num(d.n_viewers)]] : []),
  ]));
  const x = d.series.map((p) => p.bin);
  const y = d.series.map((p) => p.value);
  const traces = [{ x, y, type: "scatter", mode: "lines+markers", name: plotText("videos per day") }];
  const shapes = d.bursts.map((b) => ({
    type: "rect", xref: "x", yref: "paper", x0: b.start, x1: b.end, y0: 0, y1: 1,
    fillcolor: "rgba(179, 38, 14, 0.12)", line: { width: 0 },
  }));
  const layout = { shapes, xaxis: { title: { text: "day (UTC)" } }, yaxis: { title: { text: "videos" } }, showlegend: true };
  const holder = h("div", {});
  holder.append(chart(`Daily series of ${id}; bursts shaded`, traces, layout));
  root.append(h("h2", {}, "Series"), holder);

  const status = h("p", { class: "muted", role: "status" });
  const button = h("button", { type: "button", id: "forecast" }, "Forecast the next 7 days");
  button.addEventListener("click", async () => {
    button.disabled = true;
    status.textContent = "Forecasting…";
    try {
      const f = await api("/trends/forecast", { method: "POST", body: { trend_ids: [d.trend_id], days: 7 } });
      const rows = f.forecasts.filter((r) => r.trend_id === d.trend_id);
      if (!rows.length) {
        status.textContent = "Not enough history to forecast this trend.";
        return;
      }
      const fx = rows.map((r) => r.bin);
      const band = {
        x: [...fx, ...fx.slice().reverse()],
        y: [...rows.map((r) => r.hi_80), ...rows.map((r) => r.lo_80).reverse()],
        type: "scatter", mode: "lines", fill: "toself", fillcolor: "rgba(11, 87, 208, 0.15)", line: { width: 0 },
        name: "80 % interval", hoverinfo: "skip",
      };
      const fc = { x: fx, y: rows.map((r) => r.forecast), type: "scatter", mode: "lines", line: { dash: "dash" }, name: "forecast" };
      holder.replaceChildren(chart(`Daily series of ${id} with a 7-day forecast`, [...traces, band, fc], layout));
      status.textContent = `Forecast ready: ${rows.length} days, method ${rows[0].method}.`;
      root.append(table("Forecast", [
        { key: "bin", label: "Day", render: (r) => when(r.bin) },
        { key: "forecast", label: "Forecast", num: true },
        { key: "lo_80", label: "Low (80 %)", num: true },
        { key: "hi_80", label: "High (80 %)", num: true },
      ], rows));
    } catch (err) {
      status.textContent = "";
      status.append(errorNotice(err));
    } finally {
      button.disabled = false;
    }
  });
  root.append(h("div", { class: "pager" }, button, status));

  root.append(h("h2", {}, "Bursts"), d.bursts.length ? table("Bursts", [
    { key: "start", label: "Start", render: (r) => when(r.start) },
    { key: "peak", label: "Peak", render: (r) => when(r.peak) },
    { key: "end", label: "End", render: (r) => when(r.end) },
    { key: "weight", label: "Weight", num: true },
    { key: "magnitude", label: "Magnitude", num: true },
  ], d.bursts) : h("p", {}, "No bursts detected."));
  root.append(h("h2", {}, "Spill-over to other communities"), d.spillover.length ? table("Spill-over", [
    { key: "origin", label: "From" },
    { key: "target", label: "To" },
    { key: "lag_hours", label: "Lag (hours)", num: true },
    { key: "bridge_hashtags", label: "Bridge hashtags", render: (r) => (r.bridge_hashtags || []).join(", ") || "–" },
  ], d.spillover) : h("p", {}, "No spill-over found."));
}
