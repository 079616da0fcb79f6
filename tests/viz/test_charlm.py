"""Stage 2-3 pictures: the count heatmap and the embedding scatter."""

from __future__ import annotations

import numpy as np
import pytest

from groundup.models.bigram import CountingBigram
from groundup.viz import plot_bigram_counts, plot_embeddings
from groundup.viz.charlm import embedding_coordinates

pytest.importorskip("matplotlib")


def _texts(fig):
    return [t.get_text() for t in fig.axes[0].texts]


def test_count_heatmap_labels_every_pair_with_its_count(tmp_path):
    model = CountingBigram.fit(["ab", "b"])
    path = tmp_path / "counts.png"
    fig = plot_bigram_counts(model, path=path)
    assert path.stat().st_size > 1000
    texts = _texts(fig)
    assert len(texts) == 2 * 9  # pair label and count for each of the 3 x 3 cells
    assert "b." in texts and ".a" in texts
    assert "2" in texts  # "b." occurs twice


def test_count_heatmap_errors():
    with pytest.raises(ValueError, match=r"\(V, V\)"):
        plot_bigram_counts(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="one entry per row"):
        plot_bigram_counts(np.zeros((2, 2)), labels=["a"])


def test_embedding_scatter(tmp_path):
    W = np.random.default_rng(0).normal(size=(4, 2))
    fig = plot_embeddings(W, [".", "a", "b", "c"], path=tmp_path / "emb.png")
    assert (tmp_path / "emb.png").is_file()
    assert sorted(_texts(fig)) == [".", "a", "b", "c"]
    with pytest.raises(ValueError, match="one entry per embedding row"):
        plot_embeddings(W, ["a"])


def test_embedding_coordinates_use_principal_components_above_two_dims():
    rng = np.random.default_rng(0)
    W2 = rng.normal(size=(6, 2))
    np.testing.assert_array_equal(embedding_coordinates(W2), W2)
    # points on a plane in 5-D: the first two PCs keep all pairwise distances
    W5 = W2 @ np.linalg.qr(rng.normal(size=(5, 5)))[0][:2]
    xy = embedding_coordinates(W5)
    dist = lambda P: np.linalg.norm(P[:, None] - P[None], axis=-1)  # noqa: E731
    np.testing.assert_allclose(dist(xy), dist(W5), atol=1e-10)
    with pytest.raises(ValueError, match="d >= 2"):
        embedding_coordinates(np.zeros((3, 1)))


def test_embedding_scatter_of_a_model_uses_its_embedding_table(tmp_path):
    # a model used to fail with "float() argument must be ... not 'MLPLanguageModel'"
    from groundup.models.mlp import MLPLanguageModel
    from groundup.nn import Linear

    model = MLPLanguageModel(6, block_size=3, n_embd=2, n_hidden=8, generator=0)
    np.testing.assert_array_equal(embedding_coordinates(model), model.wte.weight.data)
    plot_embeddings(model, list(".abcde"), path=tmp_path / "emb.png")
    assert (tmp_path / "emb.png").stat().st_size > 0
    with pytest.raises(ValueError, match="Linear has no Embedding"):
        embedding_coordinates(Linear(2, 2))
