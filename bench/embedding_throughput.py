"""Embedding throughput: the pipeline's cached path (embed_cached) versus a bare model.encode.

Both sides embed the SAME ~2,000 real texts (sentences of the arXiv abstracts in
../shared/data/arxiv/arxiv_papers.jsonl, split with the pipeline's own splitter) with the SAME
model (minilm-l6 from models.yaml) and batch size, in one process, alternating (ABBA order)
so that load on the shared machine hits both alike:

- bare:     encoder.model.encode(texts, batch_size=B, normalize_embeddings=True)
- pipeline: embed_cached(con, encoder, texts, batch_size=B) into a FRESH temporary warehouse
            each repetition, so every text is a cache miss (what the embeddings asset does for
            new text: hash, cache lookup, encode, insert into embedding_cache, stack).

Target: pipeline throughput >= 0.9 x bare. One extra pipeline run under cProfile (first
--profile-texts texts, default 500) breaks the overhead down; it is not part of the timings.

    .venv/bin/python bench/embedding_throughput.py [--texts 2000] [--batch-size 64] [--repeats 3] [--with-blocked]
"""

from __future__ import annotations

import cProfile
import io
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, arxiv_records, machine_info, median, parser, write_json  # noqa: E402

TARGET_RATIO = 0.9
MODEL_ID = "minilm-l6"


def load_texts(data: Path, n: int) -> list[str]:
    from litsynth.text import split_sentences

    texts: list[str] = []
    seen: set[str] = set()
    for record in arxiv_records(data):
        abstract = record.get("abstract") or ""
        for start, end in split_sentences(abstract):
            sentence = abstract[start:end]
            if sentence not in seen:
                seen.add(sentence)
                texts.append(sentence)
            if len(texts) == n:
                return texts
    return texts


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def run_bare(encoder, texts: list[str], batch_size: int) -> dict:
    wall, cpu = _clock()
    encoder.model.encode(texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)
    return {"seconds": time.perf_counter() - wall, "cpu_seconds": time.process_time() - cpu}


def run_bare_blocked(encoder, texts: list[str], batch_size: int) -> dict:
    """Bare model.encode, but called per block of PROGRESS_BLOCK texts exactly as embed_cached calls it."""
    from litsynth.embeddings import PROGRESS_BLOCK as block

    wall, cpu = _clock()
    for start in range(0, len(texts), block):
        encoder.model.encode(texts[start : start + block], batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)
    return {"seconds": time.perf_counter() - wall, "cpu_seconds": time.process_time() - cpu}


def run_pipeline(encoder, texts: list[str], batch_size: int, workdir: Path, tag: str) -> dict:
    from litsynth.embeddings import embed_cached
    from litsynth.warehouse import open_warehouse

    opened = time.perf_counter()
    with open_warehouse(workdir / f"{tag}.duckdb") as con:
        wall, cpu = _clock()
        vectors, misses = embed_cached(con, encoder, texts, batch_size=batch_size)
        seconds, cpu_seconds = time.perf_counter() - wall, time.process_time() - cpu
        (cached,) = con.execute("SELECT count(*) FROM embedding_cache").fetchone()
    assert misses == len(set(texts)) and cached == misses and vectors.shape[0] == len(texts), (misses, cached, vectors.shape)
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "open_warehouse_seconds": wall - opened, "misses": misses}


def _label(func: tuple) -> str:
    filename, line, name = func
    return name if filename == "~" else f"{Path(filename).name}:{line}({name})"


def profile_pipeline(encoder, texts: list[str], batch_size: int, workdir: Path) -> dict:
    """One extra pipeline run under cProfile: where does the time outside model.encode go?

    The breakdown is by direct callee of embed_cached (edge times from pstats), so it adds up
    to embed_cached's own cumulative time.
    """
    from litsynth.embeddings import embed_cached
    from litsynth.warehouse import open_warehouse

    with open_warehouse(workdir / "profiled.duckdb") as con:
        profiler = cProfile.Profile()
        profiler.enable()
        embed_cached(con, encoder, texts, batch_size=batch_size)
        profiler.disable()
    stats = pstats.Stats(profiler)
    root = next(f for f in stats.stats if f[2] == "embed_cached")
    root_cum = stats.stats[root][3]
    root_own = stats.stats[root][2]
    callees = []
    for func, (_, _, _, _, callers) in stats.stats.items():
        if root in callers:
            _, ncalls, tottime, cumtime = callers[root]
            callees.append({"callee": _label(func), "ncalls": ncalls, "cumtime": cumtime})
    callees.sort(key=lambda r: -r["cumtime"])
    encode = sum(r["cumtime"] for r in callees if r["callee"].startswith("text_encoder.py") and r["callee"].endswith("(encode)"))
    buf = io.StringIO()
    pstats.Stats(profiler, stream=buf).sort_stats("cumulative").print_stats(20)
    return {
        "embed_cached_cumtime": root_cum,
        "embed_cached_own_time": root_own,
        "TextEncoder.encode_cumtime": encode,
        "outside_encode_seconds": root_cum - encode,
        "outside_encode_share": (root_cum - encode) / root_cum if root_cum else 0.0,
        "direct_callees_of_embed_cached": callees,
        "pstats_text": buf.getvalue(),
    }


def main(argv: list[str] | None = None) -> int:
    p = parser("embedding_throughput", __doc__)
    p.add_argument("--texts", type=int, default=2000)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1, help="torch threads, both sides")
    p.add_argument("--with-blocked", action="store_true",
                   help="add a third arm: bare model.encode per block of PROGRESS_BLOCK texts (isolates embed_cached's blocking from its cache work)")
    p.add_argument("--profile-texts", type=int, default=500, help="texts in the extra cProfile'd pipeline run (0: no profile)")
    args = p.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    from litsynth.config import Settings
    from litsynth.models.text_encoder import load_text_encoder

    began = time.perf_counter()
    spec = Settings.load(ROOT).catalog().get(MODEL_ID)
    encoder = load_text_encoder(spec, ROOT)
    texts = load_texts(args.data, args.texts)
    assert spec.document_prefix == "" and spec.normalize, "bare and pipeline would see different inputs"
    # Warm up both paths (first-call allocations, lazy imports, extension loading).
    encoder.model.encode(texts[:128], batch_size=args.batch_size, normalize_embeddings=True, show_progress_bar=False)

    bare, pipeline, blocked, order = [], [], [], []
    arms = ["bare", "pipeline"] + (["bare_blocked"] if args.with_blocked else [])
    with tempfile.TemporaryDirectory(prefix="bench_embed_") as tmp:
        workdir = Path(tmp)
        run_pipeline(encoder, texts[:128], args.batch_size, workdir, "warmup")
        for rep in range(args.repeats):
            # ABBA for two arms; for three, each repetition rotates the order.
            sides = (arms if rep % 2 == 0 else arms[::-1]) if len(arms) == 2 else arms[rep % 3 :] + arms[: rep % 3]
            for side in sides:
                if side == "bare":
                    bare.append(result := run_bare(encoder, texts, args.batch_size))
                elif side == "bare_blocked":
                    blocked.append(result := run_bare_blocked(encoder, texts, args.batch_size))
                else:
                    pipeline.append(result := run_pipeline(encoder, texts, args.batch_size, workdir, f"rep{rep}"))
                order.append(side)
                print(f"rep {rep} {side}: {result['seconds']:.2f} s wall, {result['cpu_seconds']:.2f} s cpu", file=sys.stderr, flush=True)
        profile = profile_pipeline(encoder, texts[: args.profile_texts], args.batch_size, workdir) if args.profile_texts else None

    n = len(texts)
    med = {
        side: {key: median([r[key] for r in runs]) for key in ("seconds", "cpu_seconds")}
        for side, runs in (("bare", bare), ("pipeline", pipeline), ("bare_blocked", blocked)) if runs
    }
    ratio = med["bare"]["seconds"] / med["pipeline"]["seconds"]  # = pipeline texts/s over bare texts/s
    cpu_ratio = med["bare"]["cpu_seconds"] / med["pipeline"]["cpu_seconds"]
    # Pairwise ratios (each pipeline run against the bare run beside it) are less exposed to drifting load.
    pairwise = [b["seconds"] / r["seconds"] for b, r in zip(bare, pipeline)]
    report = {
        "benchmark": "embedding_throughput",
        "question": "throughput of embed_cached (cache misses into a fresh warehouse) vs bare SentenceTransformer.encode",
        "machine": machine_info(torch_threads=torch.get_num_threads(), torch=torch.__version__),
        "parameters": {
            "model": MODEL_ID,
            "model_source": encoder.source,
            "texts": n,
            "text_kind": "unique sentences of arXiv abstracts (litsynth.text.split_sentences), file order",
            "mean_words_per_text": sum(len(t.split()) for t in texts) / n,
            "batch_size": args.batch_size,
            "pipeline_encode_block": args.batch_size * 16,
            "repeats": args.repeats,
            "order": order,
            "profile_texts": args.profile_texts,
            "timing": "wall = time.perf_counter, cpu = time.process_time (all threads of this process); ratio uses wall medians",
        },
        "raw": {"bare": bare, "pipeline": pipeline, **({"bare_blocked": blocked} if blocked else {})},
        "medians": {
            "bare_seconds": med["bare"]["seconds"],
            "pipeline_seconds": med["pipeline"]["seconds"],
            "bare_cpu_seconds": med["bare"]["cpu_seconds"],
            "pipeline_cpu_seconds": med["pipeline"]["cpu_seconds"],
            "bare_texts_per_s": n / med["bare"]["seconds"],
            "pipeline_texts_per_s": n / med["pipeline"]["seconds"],
            "pipeline_open_warehouse_seconds": median([r["open_warehouse_seconds"] for r in pipeline]),
        },
        "ratios": {
            "pipeline_over_bare_throughput": ratio,
            "pipeline_over_bare_throughput_cpu_time": cpu_ratio,
            "pairwise_wall": pairwise,
            "pairwise_wall_median": median(pairwise),
            **({
                "bare_blocked_over_bare_throughput": med["bare"]["seconds"] / med["bare_blocked"]["seconds"],
                "bare_blocked_over_bare_throughput_cpu_time": med["bare"]["cpu_seconds"] / med["bare_blocked"]["cpu_seconds"],
                "pipeline_over_bare_blocked_throughput": med["bare_blocked"]["seconds"] / med["pipeline"]["seconds"],
                "pipeline_over_bare_blocked_throughput_cpu_time": med["bare_blocked"]["cpu_seconds"] / med["pipeline"]["cpu_seconds"],
            } if blocked else {}),
        },
        "targets": {"pipeline/bare throughput >= 0.9": {"target": TARGET_RATIO, "measured": ratio, "measured_cpu_time": cpu_ratio, "met": ratio >= TARGET_RATIO}},
        "profile": profile,
        "total_seconds": time.perf_counter() - began,
    }
    write_json(args.out, report)

    print(f"\nminilm-l6, {n} texts, batch {args.batch_size}, torch threads {torch.get_num_threads()}, {args.repeats} repeats each (ABBA order)\n")
    print("| side | median wall s | texts/s (wall) | median cpu s | texts/s (cpu) | raw wall s |")
    print("|---|---|---|---|---|---|")
    rows = [("bare", "bare model.encode", bare), ("pipeline", "embed_cached, fresh warehouse", pipeline)]
    if blocked:
        rows.insert(1, ("bare_blocked", f"bare model.encode per {args.batch_size * 16}-text block", blocked))
    for side, label, runs in rows:
        raw = ", ".join(f"{r['seconds']:.2f}" for r in runs)
        print(f"| {label} | {med[side]['seconds']:.2f} | {n / med[side]['seconds']:.1f} | {med[side]['cpu_seconds']:.2f} | {n / med[side]['cpu_seconds']:.1f} | {raw} |")
    print(f"\npipeline/bare throughput: **{ratio:.3f}** wall (pairwise median {median(pairwise):.3f}), {cpu_ratio:.3f} cpu time; "
          f"target >= {TARGET_RATIO}: {'met' if ratio >= TARGET_RATIO else 'MISSED'}")
    if blocked:
        r = report["ratios"]
        print(f"bare_blocked/bare: {r['bare_blocked_over_bare_throughput']:.3f} wall, {r['bare_blocked_over_bare_throughput_cpu_time']:.3f} cpu; "
              f"pipeline/bare_blocked: {r['pipeline_over_bare_blocked_throughput']:.3f} wall, {r['pipeline_over_bare_blocked_throughput_cpu_time']:.3f} cpu")
    if profile:
        print(f"\nprofiled pipeline run (cProfile, {args.profile_texts} texts): embed_cached {profile['embed_cached_cumtime']:.2f} s, of which TextEncoder.encode "
              f"{profile['TextEncoder.encode_cumtime']:.2f} s and everything else {profile['outside_encode_seconds']:.3f} s "
              f"({100 * profile['outside_encode_share']:.1f}%)\n")
        print("| direct callee of embed_cached | calls | cumulative s |")
        print("|---|---|---|")
        for row in profile["direct_callees_of_embed_cached"][:12]:
            print(f"| {row['callee']} | {row['ncalls']} | {row['cumtime']:.4f} |")
        print(f"| (embed_cached own lines) | 1 | {profile['embed_cached_own_time']:.4f} |")
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
