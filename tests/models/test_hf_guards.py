"""Hugging Face folders from elsewhere are checked before anything is built: truncated or
non-finite weights, a config.json that disagrees with the weights or misses a field, and
broken JSON are each one ValueError naming the file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from groundup.models.gpt import GPT, GPTConfig
from groundup.models.llama import Llama, LlamaConfig

MODELS = {
    "gpt": (GPT, lambda: GPT(GPTConfig.preset("tiny", vocab_size=30, block_size=8), seed=0)),
    "llama": (Llama, lambda: Llama(LlamaConfig.preset("tiny", vocab_size=30), seed=0)),
}
SIZE_FIELD = {"gpt": "n_embd", "llama": "hidden_size"}


@pytest.fixture(params=sorted(MODELS))
def saved(request, tmp_path):
    cls, make = MODELS[request.param]
    folder = make().save_pretrained(tmp_path / request.param)
    return request.param, cls, folder


def _edit_config(folder, **changes):
    path = folder / "config.json"
    config = json.loads(path.read_text())
    for key, value in changes.items():
        if value is None:
            del config[key]
        else:
            config[key] = value
    path.write_text(json.dumps(config))


def test_a_clean_folder_loads(saved):
    _, cls, folder = saved
    assert cls.from_pretrained(folder).num_parameters() > 0


def test_truncated_weights_are_named(saved):
    _, cls, folder = saved
    path = folder / "model.safetensors"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 1000])
    with pytest.raises(ValueError, match=r"model\.safetensors: tensor .* the file is truncated"):
        cls.from_pretrained(folder)
    path.write_bytes(data[:5])
    with pytest.raises(ValueError, match=r"not a readable safetensors file"):
        cls.from_pretrained(folder)


def test_non_finite_weights_are_refused(saved):
    from safetensors.numpy import load_file, save_file

    _, cls, folder = saved
    path = folder / "model.safetensors"
    state = load_file(str(path))
    name = sorted(state)[0]
    state[name] = state[name].copy()
    state[name].flat[0] = np.nan
    save_file(state, str(path))
    with pytest.raises(ValueError, match=r"holds NaN or infinity"):
        cls.from_pretrained(folder)


def test_a_size_that_disagrees_with_the_weights_is_refused_before_building(saved):
    kind, cls, folder = saved
    field = SIZE_FIELD[kind]
    heads = "n_head" if kind == "gpt" else "num_attention_heads"
    _edit_config(folder, **{field: 10**9 * 4, heads: 4})  # 238 GiB if it were built
    with pytest.raises(ValueError, match=rf"config\.json: .*{field}.* but the weights are for"):
        cls.from_pretrained(folder)


def test_a_missing_field_and_broken_json_are_named(saved):
    kind, cls, folder = saved
    field = SIZE_FIELD[kind]
    _edit_config(folder, **{field: None})
    with pytest.raises(ValueError, match=rf"config\.json: missing '{field}'"):
        cls.from_pretrained(folder)
    (folder / "config.json").write_text('{"model_type": ')
    with pytest.raises(ValueError, match=r"config\.json: not valid JSON"):
        cls.from_pretrained(folder)
