"""Moderation benchmark: Davidson 2017 + YouTube spam, baselines in the same run.

    .venv/bin/python benchmarks/moderation.py [--data ../shared/data] [--seed 42] [--quick]

One run measures, on the seeded split of :mod:`communitok.safety.training`:

- the moderation model's validation (out-of-fold, where thresholds were chosen) and test
  numbers (test scored once): Davidson weighted / per-class F1, YouTube spam F1;
- the same rows scored by two baselines: the word-list filter (alt-profanity-check, the
  ``safety`` extra) and plain TF-IDF word + char n-grams with multinomial logistic
  regression (argmax, Davidson dev only — the "0.895 / 0.40" baseline in STACK.md);
- YouTube spam per source video: on the random test split and leave-one-video-out
  (train on Davidson dev + four videos, test on the fifth); ``--quick`` skips the latter;
- throughput (comments per second, 2 cores) of the model and the word-list filter;
- lingo false positives on the simulator's clean comments (several communities), with
  and without lingo awareness, and recall on its planted toxic comments;
- whether retraining reproduces the shipped model (same version fingerprint), its size;
- the hate-class study (``moderation_study.py``; development split only): recipe
  variants compared on validation hate F1, and a label-noise check; ``--no-study`` skips it.
  With the optional extra ``communitok[embeddings]`` installed it includes the
  sentence-embedding variants of issue 7 (about 10 minutes on 2 cores, plus ~3 minutes to
  encode the development tweets once); ``--no-embedding-study`` leaves those out.

Writes ``benchmarks/results/moderation.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from communitok.safety import ModerationModel, WordListFilter, decide, default_model_path
from communitok.safety.datasets import LabeledTexts, load_davidson, load_youtube_spam
from communitok.safety.text import normalize_many
from communitok.safety.training import (
    binary_metrics,
    davidson_metrics,
    evaluate,
    leave_one_video_out,
    stratified_split,
    train_default,
)

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "results" / "moderation.json"


def r3(x: Any) -> Any:
    if isinstance(x, float):
        return round(x, 4)
    if isinstance(x, dict):
        return {k: r3(v) for k, v in x.items()}
    if isinstance(x, list):
        return [r3(v) for v in x]
    return x


def tfidf_lr_baseline(dev: LabeledTexts, test: LabeledTexts, seed: int) -> dict[str, Any]:
    """Plain TF-IDF word 1–2 + char_wb 2–5 n-grams, multinomial LR, argmax (no tuning)."""
    a, b = normalize_many(dev.texts), normalize_many(test.texts)
    wv = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=50_000)
    cv = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 5), min_df=3, sublinear_tf=True, max_features=100_000
    )
    xa = sp.hstack([wv.fit_transform(a), cv.fit_transform(a)]).tocsr()
    xb = sp.hstack([wv.transform(b), cv.transform(b)]).tocsr()
    lr = LogisticRegression(C=10, max_iter=3000, random_state=seed).fit(xa, dev.labels.astype(str))
    return davidson_metrics(lr.predict(xb).astype(object), test.labels)


def throughput(fn: Any, texts: list[str], repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn(texts)
        best = min(best, time.perf_counter() - t)
    return len(texts) / best


def lingo_study(model: ModerationModel, seeds: list[int], preset: str) -> dict[str, Any]:
    try:
        from communitok.simulate import SimConfig, simulate
    except ImportError as exc:
        return {"skipped": f"simulator not importable: {exc}"}
    out: dict[str, Any] = {"preset": preset, "seeds": seeds, "runs": []}
    agg = {"aware": [0, 0], "platform_only": [0, 0], "no_masking": [0, 0]}
    agg_lingo = {k: [0, 0] for k in agg}
    recall = {c: [0, 0] for c in ("hate", "offensive", "spam")}
    for seed in seeds:
        sim = simulate(SimConfig.preset(preset, seed=seed))
        truth = sim.truth
        labels = truth.comment_labels()
        vc = truth.video_community()
        lingo = {c.id: list(c.lingo) for c in truth.communities}
        all_lingo = sorted({w for ws in lingo.values() for w in ws})
        lingo_tokens = {t for w in all_lingo for t in w.split()}
        c = sim["comments"]
        ids, texts, vids = (c[k].to_pylist() for k in ("comment_id", "text", "video_id"))
        y = np.array([labels.get(i, "clean") for i in ids], dtype=object)
        preds = {
            "aware": model.predict(texts, lingo=all_lingo),
            "platform_only": model.predict(texts),
            "no_masking": model._proba(model.featurizer_.transform(normalize_many(texts))),
        }
        preds["no_masking"] = decide(preds["no_masking"], model.thresholds_)
        clean = y == "clean"
        has_lingo = np.array([any(t in lingo_tokens for t in x.lower().split()) for x in texts])
        comm = np.array([vc.get(v, "?") for v in vids], dtype=object)
        per_comm = {}
        for k in sorted(set(comm[clean])):
            m = clean & (comm == k)
            per_comm[k] = {
                "clean_comments": int(m.sum()),
                "fp_rate_aware": float(np.mean(preds["aware"][m] != "ok")),
                "fp_rate_platform_only": float(np.mean(preds["platform_only"][m] != "ok")),
            }
        for name, p in preds.items():
            agg[name][0] += int(np.sum((p != "ok") & clean))
            agg[name][1] += int(clean.sum())
            agg_lingo[name][0] += int(np.sum((p != "ok") & clean & has_lingo))
            agg_lingo[name][1] += int(np.sum(clean & has_lingo))
        for cat in recall:
            recall[cat][0] += int(np.sum((preds["aware"] != "ok") & (y == cat)))
            recall[cat][1] += int(np.sum(y == cat))
        out["runs"].append(
            {
                "seed": seed,
                "communities_with_clean_comments": len(per_comm),
                "max_community_fp_rate_aware": max(v["fp_rate_aware"] for v in per_comm.values()),
                "per_community": per_comm,
            }
        )
    out["clean_fp_rate"] = {k: v[0] / v[1] for k, v in agg.items()}
    out["clean_with_lingo_fp_rate"] = {k: v[0] / v[1] for k, v in agg_lingo.items()}
    out["clean_comments"] = agg["aware"][1]
    out["clean_with_lingo_comments"] = agg_lingo["aware"][1]
    out["planted_toxic_flag_rate"] = {k: v[0] / v[1] for k, v in recall.items() if v[1]}
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--quick", action="store_true", help="skip leave-one-video-out")
    ap.add_argument("--no-study", action="store_true", help="skip the hate-class study")
    ap.add_argument(
        "--no-embedding-study",
        action="store_true",
        help="leave the sentence-embedding variants out of the hate-class study",
    )
    args = ap.parse_args()
    t_all = time.perf_counter()
    d, y = load_davidson(args.data), load_youtube_spam(args.data)
    res: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "data": {"davidson_rows": len(d), "youtube_rows_deduplicated": len(y)},
        "protocol": "stratified 80/20 dev/test per set (seed); thresholds + calibration on "
        "5-fold out-of-fold predictions of dev; test scored once",
    }
    t = time.perf_counter()
    tr = train_default(d, y, seed=args.seed)
    res["train_seconds"] = time.perf_counter() - t
    model = tr.model
    shipped = ModerationModel.load(default_model_path())
    res["model"] = {
        "version": model.version_,
        "shipped_version": shipped.version_,
        "reproduces_shipped": model.version_ == shipped.version_,
        "file_bytes": default_model_path().stat().st_size,
        "n_features": model.featurizer_.n_features_,
        "thresholds": model.thresholds_,
    }
    d_dev_idx, _d_test_idx = stratified_split(d.labels, 0.2, args.seed)
    y_dev_idx, _y_test_idx = stratified_split(y.labels, 0.2, args.seed)
    d_dev, y_dev = d.subset(d_dev_idx), y.subset(y_dev_idx)
    words = WordListFilter()

    # --- validation (dev) ----------------------------------------------------------------
    wd, wy = words.predict(list(d_dev.texts)), words.predict(list(y_dev.texts))
    res["validation"] = {
        "model": tr.validation,
        "word_list": {
            "davidson": davidson_metrics(wd, d_dev.labels),
            "youtube_spam": binary_metrics(wy != "ok", y_dev.labels == "spam"),
        },
    }
    # --- hate-class study (development split only) -----------------------------------------
    if not args.no_study:
        from moderation_study import hate_study

        res["hate_study"] = hate_study(d, y, seed=args.seed, embeddings=not args.no_embedding_study)
    # --- test (once) ---------------------------------------------------------------------
    test = evaluate(model, tr.davidson_test, tr.youtube_test)
    wd_t, wy_t = (
        words.predict(list(tr.davidson_test.texts)),
        words.predict(list(tr.youtube_test.texts)),
    )
    t = time.perf_counter()
    lr = tfidf_lr_baseline(d_dev, tr.davidson_test, args.seed)
    res["tfidf_lr_seconds"] = time.perf_counter() - t
    py = model.predict(list(tr.youtube_test.texts))
    per_video = {}
    for v in sorted(set(tr.youtube_test.groups)):
        m = tr.youtube_test.groups == v
        per_video[str(v)] = binary_metrics(py[m] == "spam", tr.youtube_test.labels[m] == "spam")
    res["test"] = {
        "model": {**test, "youtube_spam_per_video": per_video},
        "word_list": {
            "backend": words.backend_,
            "davidson": davidson_metrics(wd_t, tr.davidson_test.labels),
            "davidson_toxic_binary": binary_metrics(wd_t != "ok", tr.davidson_test.labels != "ok"),
            "youtube_spam": binary_metrics(wy_t != "ok", tr.youtube_test.labels == "spam"),
        },
        "tfidf_lr_argmax": {"davidson": lr},
        "published_davidson_2017": {"weighted_f1": 0.90, "hate_f1": 0.51},
    }
    dm, wm = test["davidson"], res["test"]["word_list"]["davidson"]
    res["ratios_vs_word_list"] = {
        "davidson_weighted_f1": dm["weighted_f1"] / wm["weighted_f1"],
        "youtube_spam_f1": test["youtube_spam"]["f1"]
        / max(res["test"]["word_list"]["youtube_spam"]["f1"], 1e-9),
    }
    # --- domain shift: leave one video out -------------------------------------------------
    if not args.quick:
        t = time.perf_counter()
        lovo = leave_one_video_out(d, y, seed=args.seed)
        res["youtube_leave_one_video_out"] = {
            "per_video": lovo,
            "mean_f1": float(np.mean([v["f1"] for v in lovo.values()])),
            "seconds": time.perf_counter() - t,
        }
    # --- throughput ------------------------------------------------------------------------
    texts = [*d.texts, *y.texts]
    fresh = ModerationModel.load(default_model_path())  # cold per-word cache on first pass
    t = time.perf_counter()
    fresh.predict(texts)
    cold = len(texts) / (time.perf_counter() - t)
    ours = throughput(fresh.predict, texts)
    wl = throughput(words.predict, texts)
    res["throughput_comments_per_s"] = {
        "texts": len(texts),
        "model_cold_cache": cold,
        "model": ours,
        "word_list": wl,
        "ratio_model_to_word_list": ours / wl,
        "goal": 5000,
    }
    # --- lingo false positives (simulator) ----------------------------------------------------
    res["lingo"] = lingo_study(model, seeds=[1, 2, 3], preset="small")
    res["total_seconds"] = time.perf_counter() - t_all
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(r3(res), indent=2, ensure_ascii=False) + "\n")
    v, te = res["validation"]["model"]["davidson"], res["test"]["model"]["davidson"]
    print(f"validation: Davidson weighted F1 {v['weighted_f1']:.3f}, hate F1 {v['hate_f1']:.3f}")
    print(
        f"test: Davidson weighted F1 {te['weighted_f1']:.3f} (word list {wm['weighted_f1']:.3f}, "
        f"tfidf+LR {lr['weighted_f1']:.3f}), hate F1 {te['hate_f1']:.3f} (tfidf+LR "
        f"{lr['hate_f1']:.3f}); YouTube spam F1 {test['youtube_spam']['f1']:.3f}"
    )
    print(
        f"throughput {ours:,.0f}/s vs word list {wl:,.0f}/s; lingo FP {res['lingo'].get('clean_fp_rate')}"
    )
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
