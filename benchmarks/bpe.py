"""BPE speed: training to vocab 512 on tinyshakespeare and encoding all of it, groundup's
pure-Python BPETokenizer against Hugging Face ``tokenizers`` (Rust), in one run.

    .venv/bin/python benchmarks/bpe.py                     # vocab 512, 5 repeats
    .venv/bin/python benchmarks/bpe.py --vocab-size 2048 --repeats 3

Both use GPT-2's pre-tokeniser and <|endoftext|> as the one special token; Hugging Face runs
on one thread (RAYON_NUM_THREADS=1, set before it loads), like ours. Repeats alternate ours
and theirs so that a busy machine slows both alike; printed figures are medians. Encoding
starts from a cold per-word cache each time (a fresh Hugging Face tokenizer from its files,
our cache cleared). Also printed: tokens produced and bytes per token (compression), and a
parity check: Hugging Face's files loaded into ours give identical ids on the whole text.
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


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vocab-size", type=int, default=512, help="vocabulary to train to")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats (median shown)")
    parser.add_argument(
        "--data",
        default="shakespeare",
        help="text to train/encode: 'shakespeare' (shipped) or a file path",
    )
    args = parser.parse_args()
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
    return 0 if parity else 1


if __name__ == "__main__":
    sys.exit(main())
