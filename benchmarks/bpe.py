"""BPE speed: groundup's pure-Python BPETokenizer against Hugging Face ``tokenizers`` (Rust,
training and encoding) and against OpenAI's ``tiktoken`` (Rust, encoding), in one run.

    .venv/bin/python benchmarks/bpe.py                     # both comparisons
    .venv/bin/python benchmarks/bpe.py --vs tiktoken --repeats 7
    .venv/bin/python benchmarks/bpe.py --vs hf --vocab-size 2048 --repeats 3

Hugging Face: both train to ``--vocab-size`` on ``--data`` with GPT-2's pre-tokeniser and
<|endoftext|> as the one special token; Hugging Face runs on one thread (RAYON_NUM_THREADS=1,
set before it loads), like ours. Encoding starts from a cold per-word cache each time (a fresh
Hugging Face tokenizer from its files, our cache cleared). Also printed: tokens produced and
bytes per token (compression), and a parity check: Hugging Face's files loaded into ours give
identical ids on the whole text.

tiktoken (issue 17): it cannot download GPT-2's files here, so each tokenizer we train (vocab
``--tiktoken-vocab``, on tinyshakespeare and on the Python source of ``--python-source``) is
handed to a ``tiktoken.Encoding`` as ``mergeable_ranks`` (token bytes -> id: our ids are the
ranks), with GPT-2's split pattern. ``encode_ordinary`` (the Python source holds the text
``<|endoftext|>``) is timed on the whole corpus, warm (the encoder has encoded it once
already: our cache is full) and cold (a fresh encoder: ours loaded from the saved files,
tiktoken's built anew; neither build is timed), ours and theirs alternated ABAB so that a
busy machine slows both alike. The figures are medians of CPU seconds (``process_time``:
both run on this one thread, and other jobs on a shared machine hardly change it), with the
ratio. Both must give identical ids. tiktoken is in the ``test`` extra; without it this part
is skipped, saying so (``pip install tiktoken``, or ``pip install --target DIR tiktoken`` and
DIR on PYTHONPATH).

On a shared machine the figures are indicative only: the ratios (alternated runs) mean more
than the seconds.
"""

from __future__ import annotations

import os

os.environ["RAYON_NUM_THREADS"] = "1"  # before tokenizers loads its thread pool
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
EOT = "<|endoftext|>"


def timed(fn, clock=time.perf_counter):
    start = clock()
    out = fn()
    return clock() - start, out


def cpu_timed(fn) -> float:
    """Seconds of this process's CPU time: other jobs on a shared machine hardly change it."""
    return timed(fn, time.process_time)[0]


def compare_hf(args: argparse.Namespace) -> bool:
    """Train and encode, ours against Hugging Face's; True if the ids are identical."""
    from tokenizers import ByteLevelBPETokenizer

    from groundup.data import load_text
    from groundup.tokenizers import BPETokenizer

    text = load_text(args.data)
    n_bytes = len(text.encode("utf-8"))
    tmp = Path(tempfile.mkdtemp(prefix="bench_bpe_"))

    def train_ours():
        return BPETokenizer().train(text, args.vocab_size, special_tokens=(EOT,))

    def train_hf():
        hf = ByteLevelBPETokenizer()
        hf.train_from_iterator(
            [text], vocab_size=args.vocab_size, special_tokens=[EOT], show_progress=False
        )
        return hf

    lines = text.splitlines(keepends=True)
    keys = ("train_ours", "train_hf", "enc_ours", "enc_hf", "lines_ours", "lines_hf")
    times: dict[str, list[float]] = {k: [] for k in keys}
    for _ in range(args.repeats):
        t, ours = timed(train_ours)
        times["train_ours"].append(t)
        t, hf = timed(train_hf)
        times["train_hf"].append(t)
        hf.save_model(str(tmp))
        ours._cache.clear()  # cold cache: every distinct word goes through BPE once
        t, ids_ours = timed(lambda: ours.encode(text))  # noqa: B023
        times["enc_ours"].append(t)
        fresh_hf = ByteLevelBPETokenizer.from_file(str(tmp / "vocab.json"), str(tmp / "merges.txt"))
        t, enc_hf = timed(lambda: fresh_hf.encode(text))  # noqa: B023
        times["enc_hf"].append(t)
        ours._cache.clear()
        t, _ = timed(lambda: [ours.encode(line) for line in lines])  # noqa: B023
        times["lines_ours"].append(t)
        fresh_hf = ByteLevelBPETokenizer.from_file(str(tmp / "vocab.json"), str(tmp / "merges.txt"))
        t, _ = timed(lambda: fresh_hf.encode_batch(lines))  # noqa: B023
        times["lines_hf"].append(t)
    med = {k: statistics.median(v) for k, v in times.items()}

    assert ours.decode(ids_ours) == text, "round trip failed"
    from_hf = BPETokenizer.from_pretrained(tmp)
    parity = from_hf.encode(text) == enc_hf.ids
    # the merges each learned, as byte pairs (their ids are numbered differently)
    ours_merges = [(ours.vocab[a], ours.vocab[b]) for a, b in ours.merges]
    hf_merges = [(from_hf.vocab[a], from_hf.vocab[b]) for a, b in from_hf.merges]
    same_place = sum(a == b for a, b in zip(ours_merges, hf_merges, strict=False))

    print(
        f"data: {Path(args.data).name}, {n_bytes:,} bytes; vocab {args.vocab_size}; "
        f"median of {args.repeats}; Hugging Face tokenizers on 1 thread"
    )
    print(f"{'':>24} {'groundup':>10} {'HF tokenizers':>14} {'ours/HF':>8}")
    rows = (
        ("train to vocab (s)", "train"),
        ("encode all (s)", "enc"),
        (f"encode {len(lines):,} lines (s)", "lines"),
    )
    for label, key in rows:
        a, b = med[f"{key}_ours"], med[f"{key}_hf"]
        print(f"{label:>24} {a:>10.3f} {b:>14.3f} {a / b:>8.1f}")
    n_ours, n_hf = len(ids_ours), len(enc_hf.ids)
    print(f"{'tokens':>24} {n_ours:>10,} {n_hf:>14,}")
    print(f"{'bytes per token':>24} {n_bytes / n_ours:>10.3f} {n_bytes / n_hf:>14.3f}")
    print(
        f"merges learned: {len(ours_merges)} vs {len(hf_merges)}; same set: "
        f"{set(ours_merges) == set(hf_merges)}; same rank: {same_place} "
        "(ties are broken differently)"
    )
    print(
        f"parity (HF's files loaded into groundup, whole text): "
        f"{'identical ids' if parity else 'IDS DIFFER'}"
    )
    return parity


def python_source(folder: Path) -> str:
    """Every ``*.py`` file under ``folder``, in sorted order, joined."""
    return "".join(p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*.py")))


def tiktoken_encoding(tok, name: str):
    """A ``tiktoken.Encoding`` with our tokenizer's merges: token bytes -> id as the rank."""
    import tiktoken

    from groundup.tokenizers.bpe import GPT2_SPLIT_PATTERN

    specials = set(tok.special_tokens.values())
    ranks = {token: i for i, token in tok.vocab.items() if i not in specials}
    assert len(ranks) == 256 + len(tok.merges), "two tokens have the same bytes"
    return tiktoken.Encoding(
        name=name,
        pat_str=GPT2_SPLIT_PATTERN,
        mergeable_ranks=ranks,
        special_tokens=dict(tok.special_tokens),
    )


def compare_tiktoken(args: argparse.Namespace) -> bool:
    """Encode warm and cold, ours against tiktoken's; True if the ids are identical."""
    from groundup.data import load_text
    from groundup.tokenizers import BPETokenizer

    corpora = {
        "tinyshakespeare": load_text("shakespeare"),
        f"Python source ({args.python_source.name}/**/*.py)": python_source(args.python_source),
    }
    print(
        f"encode_ordinary (whole corpus) against tiktoken on 1 thread, CPU seconds, median of "
        f"{args.repeats} alternated ABAB; warm: the encoder has encoded it once already; "
        "cold: a fresh one"
    )
    print(f"{'corpus':>36} {'vocab':>6} {'':>5} {'groundup':>9} {'tiktoken':>9} {'ours/tt':>8}")
    all_same = True
    for label, text in corpora.items():
        for vocab_size in args.tiktoken_vocab:
            ours = BPETokenizer().train(text, vocab_size, special_tokens=(EOT,))
            folder = ours.save(Path(tempfile.mkdtemp(prefix="bench_bpe_tt_")))
            theirs = tiktoken_encoding(ours, f"groundup_{vocab_size}")
            same = ours.encode_ordinary(text) == theirs.encode_ordinary(text)  # also warms both
            all_same &= same
            times: dict[str, list[float]] = {k: [] for k in ("cold_ours", "cold_tt", "ours", "tt")}
            for _ in range(args.repeats):  # cold ours, cold theirs, warm ours, warm theirs
                fresh = BPETokenizer.from_pretrained(folder)
                fresh_tt = tiktoken_encoding(ours, f"fresh_{vocab_size}")
                encoders = {"cold_ours": fresh, "cold_tt": fresh_tt, "ours": ours, "tt": theirs}
                for key, encoder in encoders.items():
                    times[key].append(cpu_timed(lambda: encoder.encode_ordinary(text)))  # noqa: B023
            med = {k: statistics.median(v) for k, v in times.items()}
            for kind, a, b in (("warm", "ours", "tt"), ("cold", "cold_ours", "cold_tt")):
                print(
                    f"{label:>36} {vocab_size:>6} {kind:>5} {med[a]:>8.3f}s {med[b]:>8.3f}s "
                    f"{med[a] / med[b]:>8.2f}"
                )
            if not same:
                print(f"{label}, vocab {vocab_size}: IDS DIFFER from tiktoken's")
    print(f"parity with tiktoken (whole corpora): {'identical ids' if all_same else 'IDS DIFFER'}")
    return all_same


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--vs", choices=("all", "hf", "tiktoken"), default="all", help="which comparison to run"
    )
    parser.add_argument("--vocab-size", type=int, default=512, help="HF: vocabulary to train to")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats (median shown)")
    parser.add_argument(
        "--data",
        default="shakespeare",
        help="HF: text to train/encode: 'shakespeare' (shipped) or a file path",
    )
    parser.add_argument(
        "--tiktoken-vocab",
        type=int,
        nargs="+",
        default=[512, 4096],
        help="tiktoken: the vocabularies to train to",
    )
    parser.add_argument(
        "--python-source",
        type=Path,
        default=REPO / "src",
        help="tiktoken: the folder whose *.py files are the code corpus",
    )
    args = parser.parse_args()
    ok = True
    if args.vs in ("all", "hf"):
        ok &= compare_hf(args)
    if args.vs in ("all", "tiktoken"):
        try:
            import tiktoken  # noqa: F401
        except ImportError:
            print("tiktoken is not installed: pip install tiktoken (see this file's docstring)")
            return 1 if args.vs == "tiktoken" else (0 if ok else 1)
        if args.vs == "all":
            print()
        ok &= compare_tiktoken(args)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
