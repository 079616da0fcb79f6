"""Stage 2: the bigram language model, "which character comes next, given this one?".

Two ways to the same table of probabilities P[i, j] = P(next = j | current = i):

* :class:`CountingBigram` counts every pair in the training words and normalises each row
  (plain NumPy, no gradients). Add-k smoothing keeps unseen pairs from getting probability 0.
* :class:`NeuralBigram` learns a (V, V) weight matrix W by gradient descent: the logits of
  the next character are row ``idx`` of W (a one-hot vector times W), softmax turns them into
  probabilities, the loss is the average negative log-likelihood. Its optimum is the counting
  table; with an L2 penalty on W it lands on the smoothed counting table instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from groundup.data.words import build_dataset

_MAX_SAMPLE_LEN = 100  # a sampled word stops here even if the boundary never comes


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _bigrams(words: Sequence[str], tokenizer: Any) -> tuple[np.ndarray, np.ndarray]:
    """(current, next) id pairs of every bigram, boundaries included: ``.emma.`` gives 5."""
    X, Y = build_dataset(words, block_size=1, tokenizer=tokenizer)
    return X[:, 0], Y


class CountingBigram:
    """The bigram model by counting.

    >>> model = CountingBigram.fit(["ab", "b"])
    >>> model.tokenizer.itos
    ['.', 'a', 'b']
    >>> model.counts.tolist()  # row = current character, column = next
    [[0, 1, 1], [0, 0, 1], [2, 0, 0]]
    >>> model.probs[0].tolist()
    [0.0, 0.5, 0.5]
    """

    def __init__(self, counts: np.ndarray, tokenizer: Any, smoothing: float = 0.0):
        counts = np.asarray(counts)
        V = tokenizer.vocab_size
        if counts.shape != (V, V):
            raise ValueError(
                f"CountingBigram: counts must have shape (V, V) = ({V}, {V}) for the "
                f"tokenizer's vocabulary, got {counts.shape}"
            )
        if not smoothing >= 0:
            raise ValueError(f"CountingBigram: smoothing must be >= 0, got {smoothing}")
        self.tokenizer = tokenizer
        self.counts = counts  # (V, V) int64: how often character j followed character i
        self.smoothing = float(smoothing)
        # add-k smoothing: pretend every pair was seen k more times. A row that was never a
        # "current" character (and k = 0) stays all zeros instead of dividing by zero.
        smoothed = counts + self.smoothing
        totals = smoothed.sum(axis=1, keepdims=True)
        self.probs = np.divide(  # (V, V) float64, each seen row sums to 1
            smoothed, totals, out=np.zeros((V, V)), where=totals > 0
        )

    @classmethod
    def fit(
        cls, words: Sequence[str], smoothing: float = 0.0, tokenizer: Any = None
    ) -> CountingBigram:
        """Count the bigrams of ``words`` (each read as ``.word.``).

        Args:
            words: the training words.
            smoothing: add-k smoothing, the k added to every count (0 = none, 1 = Laplace).
            tokenizer: a CharTokenizer with the boundary at id 0; None builds one from ``words``.
        """
        if tokenizer is None:
            from groundup.tokenizers import CharTokenizer

            tokenizer = CharTokenizer.from_words(words)
        current, nxt = _bigrams(words, tokenizer)
        V = tokenizer.vocab_size
        # flatten each pair (i, j) to the index i * V + j and count them all at once
        counts = np.bincount(current * V + nxt, minlength=V * V).reshape(V, V)
        return cls(counts, tokenizer, smoothing)

    def nll(self, words: Sequence[str]) -> float:
        """Average negative log-likelihood per bigram of ``words``: -mean(log P[i, j]).

        Returns ``inf`` when some pair has probability 0 (unsmoothed, never seen in training).
        """
        current, nxt = _bigrams(words, self.tokenizer)
        if len(current) == 0:
            raise ValueError("CountingBigram.nll: words is empty")
        with np.errstate(divide="ignore"):  # log(0) = -inf is the honest answer
            logp = np.log(self.probs[current, nxt])
        return float(-logp.mean())

    def sample(self, n: int = 1, seed: int | np.random.Generator | None = None) -> list[str]:
        """Sample ``n`` words: start at the boundary, draw the next character from its row of
        the table, stop at the next boundary (or after 100 characters)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"CountingBigram.sample: n must be a non-negative int, got {n!r}")
        rng = _rng(seed)
        cdf = np.cumsum(self.probs, axis=1)  # inverse-CDF sampling: one uniform per character
        words = []
        for _ in range(n):
            ids: list[int] = []
            ix = 0
            while len(ids) < _MAX_SAMPLE_LEN:
                if cdf[ix, -1] == 0:
                    break  # a character never seen before another one: nothing to draw
                ix = int(np.searchsorted(cdf[ix], rng.random() * cdf[ix, -1], side="right"))
                ix = min(ix, len(cdf) - 1)
                if ix == 0:
                    break
                ids.append(ix)
            words.append(self.tokenizer.decode(ids))
        return words

    def __repr__(self) -> str:
        return (
            f"CountingBigram(vocab_size={self.tokenizer.vocab_size}, "
            f"pairs={int(self.counts.sum())}, smoothing={self.smoothing:g})"
        )
