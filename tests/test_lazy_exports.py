"""Every lazily exported name resolves (the maps in __init__ files are easy to let rot)."""

import importlib

import pytest


@pytest.mark.parametrize("package", ["groundup", "groundup.viz", "groundup.data"])
def test_every_lazy_name_resolves(package):
    module = importlib.import_module(package)
    for name in module._LAZY:
        assert getattr(module, name) is not None, f"{package}.{name}"


def test_every_model_type_builds_its_class():
    from groundup.models import MODEL_TYPES, model_class

    for model_type in MODEL_TYPES:
        assert model_class(model_type).MODEL_TYPE == model_type


def test_groundup_lists_every_torch_spelling_of_the_tensor_ops():
    import groundup
    from groundup.tensor import routines

    missing = sorted(set(routines.__all__) - set(groundup._LAZY))
    assert not missing, f"add to groundup._TENSOR_NAMES: {missing}"
    assert groundup.sin is routines.sin
