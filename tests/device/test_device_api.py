"""The device API: where tensors live, how they move, and the errors at its edges."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from gpu_standin import DeviceArray

import groundup
from groundup import Tensor, nn
from groundup.tensor import backend
from groundup.tensor import cuda as gcuda

HAS_CUPY = importlib.util.find_spec("cupy") is not None


def test_cpu_is_the_default_and_prints_like_torch():
    x = Tensor([1.0, 2.0])
    assert x.device == "cpu" and str(x.device) == "cpu" and not x.is_cuda
    assert repr(x.device) == "device(type='cpu')"
    assert x.to("cpu") is x and x.cpu() is x  # nothing to move


def test_to_cuda_and_back_copies_and_keeps_values(standin_cuda):
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = x.to("cuda")
    assert type(y.data) is DeviceArray and y.device == "cuda" and str(y.device) == "cuda:0"
    assert y.is_cuda and y.cuda() is y
    back = y.cpu()
    assert type(back.data) is np.ndarray and back.tolist() == x.tolist()
    assert "device='cuda:0'" in repr(y)
    (back * back).sum().backward()  # the copies are in the graph, as in PyTorch
    np.testing.assert_array_equal(x.grad, 2 * np.arange(6.0).reshape(2, 3))


def test_numpy_and_array_copy_to_the_host(standin_cuda):
    y = Tensor([1.0, 2.0], device="cuda")
    host = y.numpy()
    assert type(host) is np.ndarray and host.tolist() == [1.0, 2.0]
    assert np.asarray(y).tolist() == [1.0, 2.0]
    x = Tensor([3.0])
    assert x.numpy() is x.data  # on the CPU it is the array itself, as in PyTorch


def test_to_takes_a_device_a_dtype_or_both(standin_cuda):
    x = Tensor([1.0, 2.0])
    assert x.to("cuda", "float64").dtype == np.float64
    assert x.to(device="cuda").device == "cuda"
    assert x.to(np.float64).device == "cpu"
    other = Tensor([0.0], dtype="float64", device="cuda")
    z = x.to(other)
    assert z.device == "cuda" and z.dtype == np.float64


def test_creation_functions_take_a_device(standin_cuda):
    for t in (
        groundup.zeros(2, 3, device="cuda"),
        groundup.ones(2, device="cuda"),
        groundup.randn(2, generator=0, device="cuda"),
        groundup.arange(4, device="cuda"),
        groundup.full((2,), 1.5, device="cuda"),
        groundup.eye(2, device="cuda"),
        groundup.linspace(0, 1, 3, device="cuda"),
        groundup.randint(5, size=(3,), generator=0, device="cuda"),
        groundup.tensor([1, 2], device="cuda"),
    ):
        assert type(t.data) is DeviceArray
    # a seed means the same numbers on every device
    assert (
        groundup.randn(4, generator=3, device="cuda").tolist()
        == groundup.randn(4, generator=3).tolist()
    )
    assert groundup.zeros_like(groundup.ones(2, device="cuda")).device == "cuda"


def test_an_op_on_two_devices_names_both(standin_cuda):
    a, b = Tensor([1.0]), Tensor([2.0], device="cuda")
    with pytest.raises(
        RuntimeError, match=r"^add: expected all tensors on one device, found cpu and cuda:0"
    ):
        a + b
    with pytest.raises(RuntimeError, match="cpu and cuda:0"):
        groundup.cat([a, b])


def test_module_to_moves_parameters_and_buffers(standin_cuda):
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    assert model.to("cuda") is model
    for t in [*model.parameters(), *model.buffers()]:
        assert type(t.data) is DeviceArray
    state = model.state_dict()  # host copies, for checkpoints
    assert all(type(v) is np.ndarray for v in state.values())
    model.load_state_dict(state)
    assert all(type(p.data) is DeviceArray for p in model.parameters())
    model.to("cpu").to(np.float64)
    assert all(type(p.data) is np.ndarray and p.dtype == np.float64 for p in model.parameters())


def test_unknown_devices_are_refused():
    with pytest.raises(ValueError, match="device 'tpu' is not one of: cpu, cuda"):
        Tensor([1.0], device="tpu")
    with pytest.raises(ValueError, match="only one GPU"):
        backend.get_device("cuda:1")
    with pytest.raises(TypeError, match="device must be a string"):
        Tensor([1.0], device=3)


@pytest.mark.skipif(HAS_CUPY, reason="CuPy is installed here: its absence cannot be tested")
def test_cuda_without_cupy_says_how_to_install_it():
    assert not gcuda.is_available()
    assert gcuda.default_device() == "cpu"
    with pytest.raises(RuntimeError, match=r'pip install -e "\.\[cuda\]"'):
        Tensor([1.0], device="cuda")
    with pytest.raises(RuntimeError, match="cupy-cuda12x"):
        nn.Linear(2, 2).to("cuda")


def test_is_available_sees_a_registered_device(standin_cuda):
    assert gcuda.is_available() and gcuda.default_device() == "cuda"
    assert groundup.cuda.is_available()
    gcuda.synchronize()  # nothing to wait for on the stand-in


def test_the_cpu_path_never_imports_cupy():
    import subprocess
    import sys

    code = (
        "import sys, groundup; from groundup import Tensor; "
        "(Tensor([1.0], requires_grad=True) * 2).sum().backward(); "
        "print('cupy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
