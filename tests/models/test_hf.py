"""Hugging Face folders read without torch: safetensors by hand (bfloat16 included), shards,
clear errors for pickles, missing and corrupt files."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from groundup.models.hf import load_safetensors, read_config, read_weights, write_folder


def write_by_hand(path, tensors: dict[str, tuple[str, tuple[int, ...], bytes]]) -> None:
    """The format itself: u64 header length, JSON header, then the bytes."""
    header, body = {}, b""
    for name, (dtype, shape, data) in tensors.items():
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [len(body), len(body) + len(data)]}  # fmt: skip
        body += data
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + body)


def test_reads_what_safetensors_writes(tmp_path):
    arrays = {"w": np.arange(12, dtype=np.float32).reshape(3, 4), "i": np.array([1, -2]),
              "h": np.ones((2, 2), dtype=np.float16), "s": np.array(3.5)}  # fmt: skip
    save_file(arrays, str(tmp_path / "a.safetensors"), metadata={"format": "pt"})
    ours, theirs = (
        load_safetensors(tmp_path / "a.safetensors"),
        load_file(str(tmp_path / "a.safetensors")),
    )
    assert ours.keys() == theirs.keys()
    for name in theirs:
        assert ours[name].dtype == theirs[name].dtype and ours[name].shape == theirs[name].shape
        np.testing.assert_array_equal(ours[name], theirs[name])


def test_bfloat16_widens_to_the_float32_it_is_the_top_half_of(tmp_path):
    values = np.array([1.0, -2.5, 3.140625, 1e-3], dtype=np.float32)
    top = (values.view(np.uint32) >> 16).astype("<u2")  # bfloat16: truncate the low 16 bits
    write_by_hand(tmp_path / "bf16.safetensors", {"x": ("BF16", (2, 2), top.tobytes())})
    x = load_safetensors(tmp_path / "bf16.safetensors")["x"]
    assert x.dtype == np.float32 and x.shape == (2, 2)
    np.testing.assert_array_equal(x.ravel()[:3], values[:3])  # exact in 8 bits of mantissa
    assert abs(x.ravel()[3] - 1e-3) < 1e-5


def test_sharded_folder_reads_every_shard(tmp_path):
    save_file({"a": np.ones(2, np.float32)}, str(tmp_path / "model-00001-of-00002.safetensors"))
    save_file({"b": np.zeros(3, np.float32)}, str(tmp_path / "model-00002-of-00002.safetensors"))
    index = {"weight_map": {"a": "model-00001-of-00002.safetensors",
                            "b": "model-00002-of-00002.safetensors"}}  # fmt: skip
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps(index))
    state = read_weights(tmp_path)
    assert sorted(state) == ["a", "b"] and state["b"].shape == (3,)


def test_write_folder_round_trip(tmp_path):
    write_folder(tmp_path / "m", {"w": np.eye(2, dtype=np.float32)}, {"model_type": "llama"})
    assert read_config(tmp_path / "m", ("llama",), "Llama") == {"model_type": "llama"}
    np.testing.assert_array_equal(read_weights(tmp_path / "m")["w"], np.eye(2))
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == [
        "config.json",
        "model.safetensors",
    ]


def test_errors_name_the_file_and_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="no config.json"):
        read_config(tmp_path, ("llama",), "Llama")
    (tmp_path / "config.json").write_text('{"model_type": "bert"}')
    with pytest.raises(ValueError, match="model_type must be 'llama' or 'qwen2', got 'bert'"):
        read_config(tmp_path, ("llama", "qwen2"), "Llama")
    with pytest.raises(FileNotFoundError, match="no model.safetensors"):
        read_weights(tmp_path)
    (tmp_path / "pytorch_model.bin").write_bytes(b"not read")
    with pytest.raises(ValueError, match="pickle"):
        read_weights(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"\x05")
    with pytest.raises(ValueError, match="not a readable safetensors file"):
        read_weights(tmp_path)
    write_by_hand(tmp_path / "model.safetensors", {"x": ("F8_E4M3", (1,), b"\x00")})
    with pytest.raises(ValueError, match="F8_E4M3, not supported"):
        read_weights(tmp_path)
