"""groundup.train.shards: a step's forward and backward over the BLAS's threads, by rows."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from gpt_batches import single_process_grads, tiny_gpt, word_batch

from groundup import nn
from groundup.optim import SGD
from groundup.train import ArrayBatches, TrainConfig, shards, train


@pytest.fixture
def any_size(monkeypatch):
    """Shards for models of any size (the tests' are far below SHARD_FLOPS)."""
    monkeypatch.setattr(shards, "SHARD_FLOPS", 0)


@pytest.mark.parametrize("rows", [7, 2])
def test_the_shards_give_the_loss_and_gradient_of_the_single_process_grads(
    rows, two_blas_threads, any_size, monkeypatch
):
    """7 rows of uneven lengths (and 2, one each) on two threads: each shard weighs by its
    targets, and the summed gradients are the batch's, to rounding."""
    X, Y = word_batch(rows=rows)
    loss1, grads1 = single_process_grads(tiny_gpt(), X, Y)
    model, names = tiny_gpt(), []
    spread = shards.spread

    def spread_and_record(tasks):
        names.append(len(tasks))
        spread([lambda t=t: (t(), names.append(threading.current_thread().name)) for t in tasks])

    monkeypatch.setattr(shards, "spread", spread_and_record)
    assert shards.shard_count(model, X, Y) == 2
    loss = shards.forward_backward(model, X, Y)
    assert names[0] == 2 and len(set(names[1:])) == 2  # two shards, on two threads
    assert loss == pytest.approx(loss1, rel=1e-12)
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, grads1[name], rtol=1e-9, atol=1e-12, err_msg=name)


def other_models():
    """(name, model factory, batch) of the other models train() trains: a Llama (grouped
    query heads, rotary), the stage 3 MLP (without BatchNorm) and the neural bigram."""
    from groundup.models.bigram import NeuralBigram
    from groundup.models.llama import Llama, LlamaConfig
    from groundup.models.mlp import MLPLanguageModel

    rng = np.random.default_rng(2)
    config = LlamaConfig(vocab_size=11, hidden_size=16, intermediate_size=24,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=8)  # fmt: skip
    return [
        ("llama", lambda: Llama(config, seed=1).double(), word_batch(rows=5)),
        ("mlp", lambda: MLPLanguageModel(11, block_size=3, n_embd=4, n_hidden=8,
                                         generator=1, dtype="float64"),
         (rng.integers(0, 11, size=(9, 3)), rng.integers(0, 11, size=9))),
        ("bigram", lambda: NeuralBigram(11, generator=1, dtype="float64"),
         (rng.integers(0, 11, size=6), rng.integers(0, 11, size=6))),
    ]  # fmt: skip


@pytest.mark.parametrize(
    "name, make, batch", other_models(), ids=lambda x: x if isinstance(x, str) else ""
)
def test_other_models_shard_to_their_whole_batch_too(name, make, batch, two_blas_threads, any_size):
    X, Y = batch
    loss1, grads1 = single_process_grads(make(), X, Y)
    model = make()
    assert shards.shard_count(model, X, Y) == 2
    assert shards.forward_backward(model, X, Y) == pytest.approx(loss1, rel=1e-12)
    for n, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, grads1[n], rtol=1e-9, atol=1e-12, err_msg=n)


def test_the_gradients_add_into_what_is_there_as_backward_does(two_blas_threads, any_size):
    X, Y = word_batch()
    model = tiny_gpt()
    first = shards.forward_backward(model, X, Y)
    once = {n: p.grad.copy() for n, p in model.named_parameters()}
    assert shards.forward_backward(model, X, Y) == pytest.approx(first, rel=1e-12)
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, 2 * once[name], rtol=1e-9, atol=1e-12, err_msg=name)


def test_a_loss_fn_shards_too_and_its_error_reaches_the_caller(two_blas_threads, any_size):
    X, Y = word_batch()
    model = tiny_gpt()
    seen = []

    def loss_fn(m, x, y):
        seen.append(len(x))
        return m(x, y)[1]

    shards.forward_backward(model, X, Y, loss_fn)
    assert sorted(seen) == [3, 4]

    def broken(m, x, y):
        raise ValueError("no loss here")

    with pytest.raises(ValueError, match="no loss here"):
        shards.forward_backward(model, X, Y, broken)


class Norm(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin, self.bn = nn.Linear(4, 3), nn.BatchNorm1d(3)

    def forward(self, x, y):
        return nn.functional.cross_entropy(self.bn(self.lin(x)), y)


def generator_states(model) -> list:
    return [g.bit_generator.state for _, _, g in shards._generators(model)]


def test_with_dropout_each_shard_keeps_its_rows_of_the_batch_masks(two_blas_threads, any_size):
    """Dropout on the embeddings, attention weights and residual branches: the shards'
    masks are rows of the whole batch's, so two steps give one thread's losses, gradients
    and generator states (what a checkpoint saves, for an exact resume)."""
    model, one = tiny_gpt(0.2), tiny_gpt(0.2)
    assert shards.shard_count(model, *word_batch()) == 2
    for step in range(2):
        X, Y = word_batch(seed=step)
        for m in (model, one):
            m.zero_grad()
        loss = shards.forward_backward(model, X, Y)
        loss1, grads1 = single_process_grads(one, X, Y)
        assert loss == pytest.approx(loss1, rel=1e-12)
        for name, p in model.named_parameters():
            np.testing.assert_allclose(p.grad, grads1[name], rtol=1e-9, atol=1e-12, err_msg=name)
        assert generator_states(model) == generator_states(one)
    assert all(type(g) is np.random.Generator for _, _, g in shards._generators(model))


def test_a_ranks_rows_shard_over_its_threads_with_dropout(two_blas_threads, any_size, monkeypatch):
    """Under the MPI ranks' generators (rows [0, 4) of a batch of 7), the threads' shards
    keep rows of the rank's rows: the rank's gradient, as in one piece."""
    from groundup.train import distributed

    X, Y = word_batch()
    results = []
    for flops in (0, 2**62):  # shards, then one piece
        monkeypatch.setattr(shards, "SHARD_FLOPS", flops)
        model = tiny_gpt(0.2)
        with distributed.sharded_generators(model, 0, 4, 7):
            loss = shards.forward_backward(model, X[:4], Y[:4])
        results.append((loss, {n: p.grad.copy() for n, p in model.named_parameters()},
                        generator_states(model)))  # fmt: skip
    (loss, grads, states), (loss1, grads1, states1) = results
    assert loss == pytest.approx(loss1, rel=1e-12) and states == states1
    for name in grads:
        np.testing.assert_allclose(grads[name], grads1[name], rtol=1e-9, atol=1e-12, err_msg=name)


def test_one_piece_where_shards_would_not_be_the_batch(two_blas_threads, any_size):
    """BatchNorm (the batch's statistics), a shard without a target, a batch of one row:
    one piece, the very numbers of backward."""
    X, Y = word_batch()
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 4)), rng.integers(0, 3, size=8)
    assert shards.shard_count(Norm(), x, y) == 1
    padded = Y.copy()
    padded[4:] = -1  # the second shard, rows 4 to 6, has nothing to predict
    assert shards.shard_count(tiny_gpt(), X, padded) == 1
    assert shards.shard_count(tiny_gpt(), X[:1], Y[:1]) == 1
    model = tiny_gpt(0.1)
    loss = shards.forward_backward(model, X, padded)
    loss1, grads1 = single_process_grads(tiny_gpt(0.1), X, padded)
    assert loss == loss1
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(p.grad, grads1[name], err_msg=name)


def test_one_piece_on_one_blas_thread_and_below_shard_flops(two_blas_threads, monkeypatch):
    X, Y = word_batch()
    assert shards.shard_count(tiny_gpt(), X, Y) == 1  # 6 * 5k parameters * 31 targets
    size = sum(p.data.size for p in tiny_gpt().parameters())
    monkeypatch.setattr(shards, "SHARD_FLOPS", 6 * size * Y.size)
    assert shards.shard_count(tiny_gpt(), X, Y) == 2
    two_blas_threads.set(1)
    assert shards.shard_count(tiny_gpt(), X, Y) == 1


def test_train_runs_its_steps_in_shards(two_blas_threads, any_size, monkeypatch):
    """The loop's steps go through forward_backward: on two threads, the same history as on
    one, to rounding."""
    rng = np.random.default_rng(1)
    X, Y = rng.integers(0, 11, size=(40, 8)), rng.integers(0, 11, size=(40, 8))
    batches = ArrayBatches({"train": (X, Y), "val": (X, Y)}, batch_size=8, seed=0)
    config = TrainConfig(max_steps=4, lr=0.1, grad_clip=1.0, eval_batches=1)
    counts = []
    count = shards.shard_count
    monkeypatch.setattr(shards, "shard_count", lambda *a: counts.append(count(*a)) or counts[-1])

    def run():
        model = tiny_gpt()
        return train(model, batches, SGD(model.parameters(), lr=0.1), config).train_loss

    on_two = run()
    two_blas_threads.set(1)
    on_one = run()
    assert counts == [2] * 4 + [1] * 4
    np.testing.assert_allclose(on_two, on_one, rtol=1e-10)
