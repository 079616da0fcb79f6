"""Known answers, the autograd machinery, dtypes and error messages of groundup.Tensor."""

from __future__ import annotations

import numpy as np
import pytest

import groundup
from groundup import Tensor, no_grad
from groundup.tensor import gradcheck

# ---------------------------------------------------------------- known answers


def test_micrograd_known_answer():
    # micrograd's README example, as tensors of one element: same numbers as stage 1
    a = Tensor([-4.0], dtype="float64", requires_grad=True)
    b = Tensor([2.0], dtype="float64", requires_grad=True)
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    g.sum().backward()
    assert g.item() == pytest.approx(24.70408163265306, abs=1e-12)
    assert a.grad.item() == pytest.approx(138.83381924198252, abs=1e-10)
    assert b.grad.item() == pytest.approx(645.5772594752187, abs=1e-10)


def test_matmul_known_answer():
    a = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = Tensor([[5.0], [6.0]], requires_grad=True)
    y = a @ b
    assert y.tolist() == [[17.0], [39.0]]
    y.sum().backward()
    assert a.grad.tolist() == [[5.0, 6.0], [5.0, 6.0]]  # dL/da = 1 b^T
    assert b.grad.tolist() == [[4.0], [6.0]]  # dL/db = a^T 1


def test_broadcast_gradient_sums_back():
    x = Tensor(np.ones((4, 3)), requires_grad=True)
    b = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * b).sum().backward()
    assert b.grad.shape == (3,)
    assert b.grad.tolist() == [4.0, 4.0, 4.0]
    assert x.grad.tolist() == [[1.0, 2.0, 3.0]] * 4


# ---------------------------------------------------------------- dtypes and constructors


def test_default_dtypes():
    assert Tensor([1.0, 2.0]).dtype == np.float32
    assert Tensor(np.zeros(3)).dtype == np.float32  # float64 arrays too, unless asked
    assert Tensor([1, 2]).dtype == np.int64
    assert Tensor([1.0], dtype="float64").dtype == np.float64
    assert Tensor([1.0], dtype=np.float64).dtype == np.float64
    x = Tensor([1.0, 2.0])
    for y in (x * 2.0, 2.0 * x, x / 3, x**2, 1 - x, x + np.float64(1)):
        assert y.dtype == np.float32


def test_constructors():
    assert groundup.zeros(2, 3).shape == (2, 3)
    assert groundup.ones((2, 3)).data.sum() == 6
    assert groundup.zeros(2, dtype="float64").dtype == np.float64
    assert groundup.arange(4).tolist() == [0, 1, 2, 3]
    assert groundup.arange(4).dtype == np.int64
    assert groundup.arange(0.0, 1.0, 0.5).dtype == np.float32
    a = groundup.randn(3, 4, generator=7)
    b = groundup.randn(3, 4, generator=np.random.default_rng(7))
    assert a.dtype == np.float32 and np.array_equal(a.data, b.data)
    assert groundup.randn(2, requires_grad=True).requires_grad
    assert groundup.tensor([1.0]).dtype == np.float32


def test_constructor_copies_its_input():
    arr = np.ones(3, dtype=np.float32)
    t = Tensor(arr)
    arr[0] = 5
    assert t.data[0] == 1


def test_item_numpy_detach_repr():
    x = Tensor([[1.5]], requires_grad=True)
    assert x.item() == 1.5
    assert isinstance(x.numpy(), np.ndarray)
    y = (x * 2).detach()
    assert not y.requires_grad and y.is_leaf
    assert "requires_grad=True" in repr(x)
    assert "grad_fn=<Mul>" in repr(x * 2)


def test_comparisons_make_bool_tensors_outside_the_graph():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    m = x > 1.5
    assert m.dtype == bool and not m.requires_grad
    assert m.tolist() == [False, True, True]
    assert (x == 2.0).tolist() == [False, True, False]
    assert len({x, x}) == 1  # hashable by identity


def test_numpy_array_on_the_left_defers_to_tensor():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0], dtype=np.float32) * x
    assert isinstance(y, Tensor) and y.requires_grad


# ---------------------------------------------------------------- graph machinery


def test_no_grad_records_nothing():
    x = Tensor([1.0], requires_grad=True)
    with no_grad():
        assert not groundup.is_grad_enabled()
        y = x * 2
    assert groundup.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf

    @no_grad()
    def f(t):
        return t * 3

    assert not f(x).requires_grad


def test_tensor_used_twice_accumulates():
    x = Tensor([3.0], dtype="float64", requires_grad=True)
    y = x * x + x  # x used three times
    y.backward(np.ones(1))
    assert x.grad.tolist() == [7.0]


def test_grad_accumulates_across_backward_calls():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]


def test_leaf_grads_are_writable_and_not_shared():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()  # the same upstream array reaches both leaves
    a.grad += 1
    assert b.grad.tolist() == [1.0, 1.0]
    c = Tensor(np.ones((2, 3)), requires_grad=True)
    c.sum().backward()  # sum's backward is a read-only broadcast view
    c.grad *= 2
    assert c.grad.flags.writeable and c.grad.tolist() == [[2.0] * 3] * 2


def test_non_leaf_grads_are_freed_unless_retained():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    k = x * 3
    k.retain_grad()
    (h + k).sum().backward()
    assert h.grad is None
    assert k.grad.tolist() == [1.0, 1.0]


def test_slices_fill_a_gradient_laid_out_as_their_data():
    """A model's q, k, v = qkv[0], qkv[1], qkv[2] of a permuted view: the gradient the three
    slices fill has the view's strides, so the permute and reshape back to the input are
    views of it, not copies."""
    x = Tensor(np.random.default_rng(0).standard_normal((2, 5, 12)), requires_grad=True)
    qkv = (x * 1.0).view(2, 5, 3, 2, 2).permute(2, 0, 3, 1, 4)  # (3, B, heads, T, D)
    qkv.retain_grad()
    q, k, v = qkv[0], qkv[1], qkv[2]
    (q.sum() + 2 * k.sum() + 3 * v.sum()).backward()
    assert qkv.grad.strides == qkv.data.strides
    want = np.broadcast_to(np.repeat([1.0, 2.0, 3.0], 4), (2, 5, 12))
    np.testing.assert_array_equal(x.grad, want)


def _rows(*values: float) -> np.ndarray:
    return np.repeat(np.array(values, dtype=float)[:, None], 3, axis=1)


ROW_USES = {  # uses of the rows of t (4, 3), and the gradient each gives t
    "all rows": (lambda t: t[0].sum() + 2 * t[1].sum() + 3 * t[2].sum() + 4 * t[3].sum(),
                 _rows(1, 2, 3, 4)),
    "rows 0 and 2": (lambda t: t[0].sum() + 3 * t[2].sum(), _rows(1, 0, 3, 0)),
    "a row twice": (lambda t: t[1].sum() + 5 * t[1].sum() + t[-1].sum(), _rows(0, 6, 0, 1)),
    "a row, then a column": (lambda t: t[0].sum() + 2 * t[:, 1].sum(),
                             _rows(1, 0, 0, 0) + [0, 2, 0]),
    "a row, then the whole": (lambda t: t[2].sum() + (t * 7).sum() + t[3].sum(),
                              _rows(7, 7, 8, 8)),
    "the whole, then a row": (lambda t: (t * 7).sum() + t[2].sum(), _rows(7, 7, 8, 7)),
}  # fmt: skip


@pytest.mark.parametrize("use", list(ROW_USES))
@pytest.mark.parametrize("leaf", [True, False], ids=["leaf", "interior"])
def test_rows_sliced_out_get_exact_gradients_and_zeros_elsewhere(use, leaf, monkeypatch):
    """Slices that are rows of the first axis are copied into an empty gradient and the
    rows left unwritten zeroed afterwards. numpy.empty_like is made to return nan here, so
    a row the engine forgets to zero shows."""
    real = np.empty_like
    monkeypatch.setattr(np, "empty_like", lambda a, *args, **kw: np.full_like(real(a), np.nan))
    x = Tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    t = x if leaf else x * 1.0
    t.retain_grad()
    function, want = ROW_USES[use]
    function(t).backward()
    np.testing.assert_array_equal(t.grad, want)
    np.testing.assert_array_equal(x.grad, want)


def test_a_row_of_a_long_tensor_takes_the_zero_filled_gradient():
    """Past a few rows the empty gradient is not worth its bookkeeping: zeros, then the row."""
    x = Tensor(np.ones((1000, 2)), requires_grad=True)
    (3 * x[7]).sum().backward()
    want = np.zeros((1000, 2))
    want[7] = 3
    np.testing.assert_array_equal(x.grad, want)


def test_rows_sliced_out_add_into_a_leaf_gradient_kept_from_before():
    x = Tensor(np.ones((3, 2)), requires_grad=True)
    x[0].sum().backward()
    x[1].sum().backward()  # a second backward adds into the first's gradient
    np.testing.assert_array_equal(x.grad, [[1, 1], [1, 1], [0, 0]])


def test_gradients_summed_in_place_never_write_into_an_array_another_tensor_holds():
    """t's gradient is an alias of u's (Add passes its gradient on) plus a fresh one (Mul's):
    the engine sums into the fresh array, and u.grad keeps its value."""
    x = Tensor(np.ones((3, 4)), requires_grad=True)
    t = x * 1.0
    u = t + 0.0
    for a in (t, u):
        a.retain_grad()
    (u + t * 3.0).sum().backward()
    np.testing.assert_array_equal(u.grad, np.ones((3, 4)))
    np.testing.assert_array_equal(t.grad, np.full((3, 4), 4.0))
    np.testing.assert_array_equal(x.grad, np.full((3, 4), 4.0))


def test_long_chain_is_not_recursive():
    x = Tensor([1.0], dtype="float64", requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 0.0
    y.sum().backward()
    assert x.grad.tolist() == [1.0]


def test_second_backward_through_freed_graph_raises():
    x = Tensor([1.0], requires_grad=True)
    y = (x * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="already freed"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = Tensor([1.0], requires_grad=True)
    y = (x * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0]


def test_backward_releases_saved_buffers():
    x = Tensor(np.ones((3, 3)), requires_grad=True)
    y = x.exp()
    z = y.sum()
    ctx = y._ctx
    assert vars(ctx)  # holds the saved output
    z.backward()
    assert not vars(ctx) and ctx.parents is None


# ---------------------------------------------------------------- errors a learner can act on


def test_matmul_shape_error_names_both_shapes():
    with pytest.raises(
        ValueError, match=r"matmul: \(4, 3\) @ \(4, 3\): inner sizes 3 and 4 differ"
    ):
        groundup.ones(4, 3) @ groundup.ones(4, 3)


def test_broadcast_error_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\)"):
        groundup.ones(2, 3) + groundup.ones(4)


def test_expand_keeps_minus_one_and_clip_takes_max_alone():
    x = groundup.ones(2, 1)
    assert x.expand(5, -1, 3).shape == (5, 2, 3)
    assert x.clip(max=0.5).tolist() == [[0.5], [0.5]]


# ---------------------------------------------------------------- gradcheck itself


def test_gradcheck_accepts_right_and_rejects_wrong_backward():
    x = groundup.randn(3, 4, generator=0)
    assert gradcheck(lambda a: (a.tanh() * a).sum(dim=1), x)

    class WrongSquare(groundup.tensor.Function):
        def forward(self, a):
            self.a = a
            return a * a

        def backward(self, grad):
            return (grad * self.a,)  # missing the factor 2

    with pytest.raises(AssertionError, match="gradcheck: input 0"):
        gradcheck(lambda a: WrongSquare.apply(a), x)


def test_a_gradient_returned_for_two_inputs_is_not_shared_between_them():
    class Both(groundup.tensor.Function):  # returns one new array for both inputs
        def forward(self, a, b):
            return a + b

        def backward(self, grad):
            g = grad * 1.0
            return g, g

    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    Both.apply(a, b).sum().backward()
    a.grad += 1
    assert b.grad.tolist() == [1.0, 1.0]


def test_memory_stays_flat_across_training_steps():
    import tracemalloc

    import groundup.nn.functional as F

    rng = np.random.default_rng(0)
    W1 = groundup.randn(30, 200, requires_grad=True, generator=1)
    W2 = groundup.randn(200, 27, requires_grad=True, generator=2)
    x, y = rng.standard_normal((256, 30)), rng.integers(0, 27, 256)

    def step():
        W1.grad = W2.grad = None
        loss = F.cross_entropy((Tensor(x) @ W1).tanh() @ W2, y)
        loss.backward()
        with no_grad():
            W1.data -= 0.01 * W1.grad
            W2.data -= 0.01 * W2.grad

    tracemalloc.start()
    step()
    step()
    base = tracemalloc.get_traced_memory()[0]
    for _ in range(10):
        step()
    grown = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    assert grown < 100_000, f"memory grew by {grown} bytes over 10 steps"


def test_reductions_accept_a_list_of_dims_like_torch():
    a = np.arange(24.0).reshape(2, 3, 4)
    for name in ("sum", "mean", "var"):
        x = Tensor(a, requires_grad=True, dtype="float64")
        out = getattr(x, name)(dim=[0, -1], keepdim=True)
        want = getattr(Tensor(a, dtype="float64"), name)(dim=(0, 2), keepdim=True)
        np.testing.assert_allclose(out.data, want.data)
        out.sum().backward()
        assert x.grad.shape == a.shape
    x = Tensor(a, dtype="float64")
    np.testing.assert_array_equal(x.max(dim=[1, 2]).data, a.max(axis=(1, 2)))
    np.testing.assert_array_equal(x.min(dim=[1, 2]).data, a.min(axis=(1, 2)))


def test_float_int_of_a_one_element_tensor():
    assert float(Tensor([[2.5]])) == 2.5
    assert int(Tensor(3)) == 3


def test_cat_and_stack_negative_dims():
    assert groundup.stack([groundup.zeros(2)] * 3, dim=-1).shape == (2, 3)
    assert groundup.cat((groundup.zeros(2, 1), groundup.zeros(2, 3)), dim=-1).shape == (2, 4)


def test_data_of_a_zero_d_result_is_an_ndarray_not_a_numpy_scalar():
    # .data is documented as an np.ndarray; NumPy reduces 0-d results to np.float32 scalars,
    # so loss.data / loss.numpy() were scalars (no .data[...] = ..., no ndarray isinstance)
    x = Tensor([1.0, 2.0], requires_grad=True)
    for out in (x.sum(), x.mean(), x[0], x @ x, x.var(), Tensor(1.5) + Tensor(2.0), x.max()):
        assert isinstance(out.data, np.ndarray) and out.shape == ()
        assert isinstance(out.numpy(), np.ndarray)
    loss = (x * x).sum()
    loss.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])


def test_importing_groundup_leaves_the_allocator_alone():
    """A library must not retune its host process's malloc when imported: the command
    calls keep_freed_memory() explicitly, the library never does."""
    import subprocess
    import sys

    code = (
        "import ctypes\n"
        "def refuse(*a, **k): raise SystemExit('ctypes.CDLL called at import')\n"
        "ctypes.CDLL = refuse\n"
        "import groundup, groundup.tensor, groundup.nn, groundup.models.gpt, groundup.train\n"
        "groundup.Tensor([1.0], requires_grad=True).sum().backward()\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stdout + out.stderr


def test_keep_freed_memory_is_an_explicit_call():
    from groundup._allocator import keep_freed_memory

    assert keep_freed_memory() in (True, False)
