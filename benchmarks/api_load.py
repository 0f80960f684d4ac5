"""REST API under load: ``GET /v1/feed/{viewer}`` at a constant rate over loopback.

    .venv/bin/python benchmarks/api_load.py [--preset small] [--rate 200] [--duration 60]

One run, bounded in requests and time:

1. builds a simulated store (``--preset``; communities detected, feed trained and saved
   beside the store) in a temporary folder, with a ``viewer-service`` key;
2. starts ``communitok serve`` on it in a subprocess (single-threaded BLAS; the server
   loads the saved feed instead of retraining), waits until it answers;
3. open-loop constant-rate load (requests leave on schedule whatever the server does,
   so a slow server shows up as latency, not as a lower rate), with httpx over one
   pool of keep-alive connections:
   - ``GET /v1/me`` (authenticated, trivial: the baseline) for ``--baseline-duration`` s,
   - ``GET /v1/feed/{viewer}?k=20`` (served for real: marked seen, exposures logged)
     for ``--duration`` s, viewers drawn from the store (5 % unknown: cold start),
     sampling the server's RSS every second and reading the live state (sessions,
     exposure rows) before and after,
   - the same requests as previews (nothing written) for ``--preview-duration`` s: RSS
     must stay flat, so growth above is state, not a leak,
   - served feeds again at ``--sustainable-rate`` (a rate this machine keeps up with),
   - ``POST /v1/events`` at ``--events-rate`` for ``--events-duration`` s, then as fast
     as ``--events-concurrency`` connections go for 10 s (throughput);
4. the delay from an event to a feed that reflects it: preview feed, "not interested"
   on its first video, next preview feed (must not hold it), 50 times;
5. stops the server with SIGINT and checks that every served feed's exposure rows
   reached the store (buffered in memory, flushed in batches and on shutdown).

Latency is measured from each request's scheduled start (what a client waits,
including any queueing) and reported as p50 / p99; errors count non-2xx answers,
timeouts, connection failures and requests not sent because ``--max-in-flight`` were
already waiting. The server's CPU time per answered request (``/proc``) is reported per
phase: on a shared machine it says what a request costs when latency says how long
it waited. The load itself goes through :class:`RawPool` (hand-written HTTP/1.1 over
keep-alive connections), so the client is not what saturates. Writes ``benchmarks/results/api_load.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

OUT = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "api_load.json"
ENV_THREADS = {v: "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


def pct(x: list[float]) -> dict[str, float]:
    a = np.asarray(x, dtype=float) * 1000.0
    if not len(a):
        return {"p50_ms": float("nan"), "p99_ms": float("nan"), "mean_ms": float("nan")}
    return {
        "p50_ms": round(float(np.percentile(a, 50)), 2),
        "p99_ms": round(float(np.percentile(a, 99)), 2),
        "mean_ms": round(float(a.mean()), 2),
    }


def build_store(folder: Path, preset: str, seed: int) -> dict[str, Any]:
    """Simulated store with communities and a trained, saved feed; returns key + ids."""
    from feed_cpu import simulated_platform

    from communitok.api.security import KeyRing
    from communitok.core.settings import Settings
    from communitok.engine import open_engine

    store = folder / "load.duckdb"
    with open_engine(Settings(store=str(store), rejects_dir=str(folder / "rejects"))) as eng:
        svc, timing = simulated_platform(eng, preset, seed)
        secret, _ = KeyRing(eng.store).create("viewer-service", "load test")
        analyst, _ = KeyRing(eng.store).create("analyst", "load test (status)")
        viewers = eng.store.read("viewers", ["viewer_id"]).column(0).to_pylist()
        videos = svc.control.ctx_.catalogue.video_ids.tolist()
        info = {"n_videos": svc.n_videos, "n_viewers": svc.control.ctx_.interactions.n_viewers}
        svc.close()
    return {
        "store": str(store),
        "key": secret,
        "analyst_key": analyst,
        "viewers": viewers,
        "videos": videos,
        "timing": timing,
        **info,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system, all threads) the process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def with_cpu(res: dict[str, Any], pid: int, before: float) -> dict[str, Any]:
    """Add the server's CPU time per answered request during a phase."""
    res["server_cpu_ms_per_request"] = round(1000 * (cpu_s(pid) - before) / max(res["ok"], 1), 2)
    return res


class RawPool:
    """Keep-alive HTTP/1.1 connections over asyncio streams, written and parsed by hand.

    A general client (httpx) spends about a millisecond of CPU per request in Python; at
    hundreds of requests per second on the same two cores the load generator would then
    be what saturates. This pool does the minimum: one request line, fixed headers, a
    ``Content-Length`` body (what the server always sends back)."""

    def __init__(self, host: str, port: int, size: int, headers: dict[str, str]) -> None:
        self.host, self.port, self.size = host, port, size
        self.head = "".join(f"{k}: {v}\r\n" for k, v in {"Host": host, **headers}.items())
        self.free: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue()
        )

    async def open(self) -> RawPool:
        for _ in range(self.size):
            self.free.put_nowait(await asyncio.open_connection(self.host, self.port))
        return self

    async def close(self) -> None:
        while not self.free.empty():
            _, w = self.free.get_nowait()
            w.close()

    async def request(
        self, method: str, path: str, body: Any = None, timeout: float = 10.0
    ) -> tuple[int, bytes]:
        conn = await self.free.get()
        try:
            r, w = conn
            data = b"" if body is None else json.dumps(body).encode()
            extra = (
                f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
                if body is not None
                else ""
            )
            w.write(f"{method} {path} HTTP/1.1\r\n{self.head}{extra}\r\n".encode() + data)
            head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), timeout)
            status = int(head[9:12])
            at = head.lower().find(b"content-length:")
            n = int(head[at + 15 : head.find(b"\r\n", at)]) if at >= 0 else 0
            payload = await asyncio.wait_for(r.readexactly(n), timeout)
        except BaseException:
            conn[1].close()  # a broken connection is replaced, never reused
            self.free.put_nowait(await asyncio.open_connection(self.host, self.port))
            raise
        self.free.put_nowait(conn)
        return status, payload


async def open_loop(
    client: RawPool,
    make: Any,
    rate: float,
    duration: float,
    *,
    timeout: float,
    max_in_flight: int,
    on_second: Any = None,
    count_items: bool = False,
) -> dict[str, Any]:
    """Send ``make(i)`` requests on a fixed schedule; latency from the scheduled time."""
    loop = asyncio.get_running_loop()
    n = int(rate * duration)
    lat: list[float] = []
    errors: dict[str, int] = {}
    in_flight = 0
    skipped = 0
    items = 0

    async def one(i: int, at: float) -> None:
        nonlocal in_flight, items
        method, url, body = make(i)
        try:
            status, payload = await client.request(method, url, body, timeout=timeout)
            if status >= 300:
                errors[str(status)] = errors.get(str(status), 0) + 1
            else:
                lat.append(loop.time() - at)
                if count_items:
                    items += len(json.loads(payload)["items"])
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
        finally:
            in_flight -= 1

    t0 = loop.time() + 0.05
    tasks = []
    next_tick = 1.0
    for i in range(n):
        at = t0 + i / rate
        delay = at - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if on_second is not None and at - t0 >= next_tick:
            on_second(at - t0)
            next_tick += 1.0
        if in_flight >= max_in_flight:  # the server is drowning: count, do not pile up
            skipped += 1
            continue
        in_flight += 1
        tasks.append(asyncio.create_task(one(i, at)))
    await asyncio.gather(*tasks)
    wall = loop.time() - t0
    return {
        "requests": n,
        "ok": len(lat),
        "errors": sum(errors.values()) + skipped,
        "error_kinds": {**errors, **({"skipped_overload": skipped} if skipped else {})},
        "achieved_rps": round(len(lat) / wall, 1),
        "latency": pct(lat),
        **({"items_served": items} if count_items else {}),
    }


async def closed_loop(client: RawPool, make: Any, conc: int, seconds: float) -> dict:
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    lat: list[float] = []
    errors = 0
    counter = iter(range(10**9))

    async def worker() -> None:
        nonlocal errors
        while loop.time() < end:
            method, url, body = make(next(counter))
            t = loop.time()
            try:
                status, _ = await client.request(method, url, body, timeout=10.0)
                if status >= 300:
                    errors += 1
                else:
                    lat.append(loop.time() - t)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                errors += 1

    t0 = loop.time()
    await asyncio.gather(*(worker() for _ in range(conc)))
    return {
        "concurrency": conc,
        "ok": len(lat),
        "errors": errors,
        "throughput_per_s": round(len(lat) / (loop.time() - t0), 1),
        "latency": pct(lat),
    }


async def drive(args: argparse.Namespace, base: str, world: dict, pid: int) -> dict[str, Any]:
    g = np.random.default_rng(args.seed)
    viewers, videos = world["viewers"], world["videos"]
    h = {"X-API-Key": world["key"]}
    limits = httpx.Limits(
        max_connections=args.connections, max_keepalive_connections=args.connections
    )
    out: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=base, headers=h, limits=limits) as c:
        t = time.perf_counter()
        r = await c.get(f"/v1/feed/{viewers[0]}?k=20&preview=true", timeout=600)
        r.raise_for_status()
        out["first_feed_request_s"] = round(time.perf_counter() - t, 2)  # loads the model
        status = (await c.get("/v1/feed", headers={"X-API-Key": world["analyst_key"]})).json()
        out["model_loaded_from_disk"] = bool(status.get("training", {}).get("loaded_from"))
        out["model_load_s"] = status.get("training", {}).get("load_seconds")

        def feed(i: int) -> tuple[str, str, None]:
            v = str(viewers[int(g.integers(len(viewers)))])
            if g.random() < 0.05:
                v = f"load-new-{i}"
            return "GET", f"/v1/feed/{v}?k=20", None

        def me(i: int) -> tuple[str, str, None]:
            return "GET", "/v1/me", None

        def event(i: int) -> tuple[str, str, dict]:
            v = str(viewers[int(g.integers(len(viewers)))])
            body = {
                "viewer_id": v,
                "video_id": str(videos[int(g.integers(len(videos)))]),
                "watch_time_s": float(g.uniform(1, 30)),
                "liked": bool(g.random() < 0.2),
            }
            return "POST", "/v1/events", body

        port = int(base.rsplit(":", 1)[1])
        raw = await RawPool("127.0.0.1", port, args.connections, h).open()
        kw: dict[str, Any] = {"timeout": args.timeout, "max_in_flight": args.max_in_flight}
        warm = await open_loop(
            raw, feed, args.rate, min(5.0, args.duration), count_items=True, **kw
        )
        cpu = cpu_s(pid)
        out["baseline_me"] = await open_loop(raw, me, args.rate, args.baseline_duration, **kw)
        with_cpu(out["baseline_me"], pid, cpu)
        analyst = {"X-API-Key": world["analyst_key"]}
        state0 = (await c.get("/v1/feed", headers=analyst)).json()
        rss: list[tuple[float, float]] = [(0.0, rss_mb(pid))]
        cpu = cpu_s(pid)
        out["feed"] = await open_loop(
            raw,
            feed,
            args.rate,
            args.duration,
            on_second=lambda s: rss.append((s, rss_mb(pid))),
            count_items=True,
            **kw,
        )
        with_cpu(out["feed"], pid, cpu)
        rss.append((args.duration, rss_mb(pid)))
        tail = [m for s, m in rss if s >= args.duration / 2]
        out["feed"]["rss_mb"] = {
            "start": round(rss[0][1], 1),
            "end": round(rss[-1][1], 1),
            "max": round(max(m for _, m in rss), 1),
            "growth_second_half_mb": round(tail[-1] - tail[0], 1) if tail else None,
            "samples": [[round(s, 1), round(m, 1)] for s, m in rss],
        }
        state1 = (await c.get("/v1/feed", headers=analyst)).json()
        # what the growth holds: live sessions (seen videos, kept on purpose) and the
        # exposure rows appended to the store
        out["feed"]["state"] = {
            "sessions": [state0["sessions"], state1["sessions"]],
            "session_mb": [
                round((state0.get("session_bytes") or 0) / 2**20, 1),
                round((state1.get("session_bytes") or 0) / 2**20, 1),
            ],
            "exposures_logged": [state0["exposures_logged"], state1["exposures_logged"]],
        }
        b0, b1 = state0.get("batching") or {}, state1.get("batching") or {}
        if b0 and b1:  # feed requests served together (api.batching)
            n_req = b1["requests"] - b0["requests"]
            n_bat = b1["batches"] - b0["batches"]
            out["feed"]["batching"] = {
                "requests": n_req,
                "batches": n_bat,
                "mean_batch": round(n_req / n_bat, 3) if n_bat else None,
                "max_batch": b1["max_batch"],
                "batches_that_waited": b1.get("waited", 0) - b0.get("waited", 0),
            }

        def preview(i: int) -> tuple[str, str, None]:
            return "GET", feed(i)[1] + "&preview=true", None

        # the same requests as previews (no session written, nothing logged): a leak
        # would show here as growth
        r0, cpu = rss_mb(pid), cpu_s(pid)
        out["feed_preview"] = await open_loop(raw, preview, args.rate, args.preview_duration, **kw)
        with_cpu(out["feed_preview"], pid, cpu)
        out["feed_preview"]["rss_mb"] = {"start": round(r0, 1), "end": round(rss_mb(pid), 1)}
        if args.sustainable_rate:
            cpu = cpu_s(pid)
            out["feed_sustainable"] = await open_loop(
                raw, feed, args.sustainable_rate, args.preview_duration, count_items=True, **kw
            )
            out["feed_sustainable"]["rate_rps"] = args.sustainable_rate
            with_cpu(out["feed_sustainable"], pid, cpu)
            warm["items_served"] += out["feed_sustainable"].get("items_served", 0)
        out["ratio_feed_to_me"] = {
            q: round(out["feed"]["latency"][q] / out["baseline_me"]["latency"][q], 2)
            for q in ("p50_ms", "p99_ms")
        }
        out["ratio_feed_to_me"]["server_cpu_per_request"] = round(
            out["feed"]["server_cpu_ms_per_request"]
            / max(out["baseline_me"]["server_cpu_ms_per_request"], 1e-9),
            2,
        )
        cpu = cpu_s(pid)
        out["events_open_loop"] = await open_loop(
            raw, event, args.events_rate, args.events_duration, **kw
        )
        with_cpu(out["events_open_loop"], pid, cpu)
        out["events_closed_loop"] = await closed_loop(raw, event, args.events_concurrency, 10.0)
        delays, reflected = [], 0
        for j in range(50):
            v = f"load-rt-{j}"
            first = (await c.get(f"/v1/feed/{v}?k=20&preview=true")).json()["items"]
            t = time.perf_counter()
            ev = {"viewer_id": v, "video_id": first[0]["video_id"], "not_interested": True}
            (await c.post("/v1/events", json=ev)).raise_for_status()
            nxt = (await c.get(f"/v1/feed/{v}?k=20&preview=true")).json()["items"]
            delays.append(time.perf_counter() - t)
            reflected += first[0]["video_id"] not in {i["video_id"] for i in nxt}
        out["event_to_reflecting_feed"] = {**pct(delays), "share_reflected": reflected / 50}
        await raw.close()
        out["exposure_rows_expected"] = warm["items_served"] + out["feed"]["items_served"]
    return out


def exposures_after(store: str) -> int:
    from communitok.core.settings import Settings
    from communitok.engine import open_engine
    from communitok.engine.feed import exposures

    with open_engine(Settings(store=store)) as eng:
        return int(exposures(eng.store).num_rows)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="small")
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--baseline-duration", type=float, default=30.0)
    ap.add_argument("--preview-duration", type=float, default=20.0)
    ap.add_argument("--sustainable-rate", type=float, default=100.0)
    ap.add_argument("--events-rate", type=float, default=200.0)
    ap.add_argument("--events-duration", type=float, default=20.0)
    ap.add_argument("--events-concurrency", type=int, default=16)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--max-in-flight", type=int, default=1000)
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    t_all = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="communitok-load-") as tmp:
        world = build_store(Path(tmp), args.preset, args.seed)
        print(f"store ready: {world['n_videos']:,} videos, timing {world['timing']}", flush=True)
        port = free_port()
        env = {**os.environ, **ENV_THREADS}
        cmd = [
            sys.executable,
            "-c",
            "from communitok.cli import main; main()",
            "serve",
            "--store",
            world["store"],
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        t0 = time.perf_counter()
        server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            while True:
                try:
                    if httpx.get(base + "/v1/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if server.poll() is not None or time.perf_counter() - t0 > 120:
                    raise SystemExit("the server did not start")
                time.sleep(0.2)
            started = time.perf_counter() - t0
            res = asyncio.run(drive(args, base, world, server.pid))
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
        stored = exposures_after(world["store"])
    res["exposure_rows_stored"] = stored
    res["server_start_s"] = round(started, 2)
    out = {
        "preset": args.preset,
        "videos": world["n_videos"],
        "viewers": world["n_viewers"],
        "rate_rps": args.rate,
        "duration_s": args.duration,
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_avg_at_end": [round(x, 2) for x in os.getloadavg()],
        },
        "setup": world["timing"],
        "wall_s": round(time.perf_counter() - t_all, 1),
        "goal": {
            "p99_ms": 25.0,
            "met": res["feed"]["latency"]["p99_ms"] <= 25.0 and res["feed"]["errors"] == 0,
        },
        **res,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2))
    print(json.dumps({k: v for k, v in out.items() if k != "feed"}, indent=1)[:3000])
    print("feed:", json.dumps({k: v for k, v in res["feed"].items() if k != "rss_mb"}))
    print("rss:", {k: v for k, v in res["feed"]["rss_mb"].items() if k != "samples"})
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
