"""Hugging Face model folders, read and written without torch: ``config.json`` + safetensors.

GPT reads and writes GPT-2 folders with these, Llama reads Llama and Qwen2 folders and
writes Llama or Qwen2 ones. Only JSON and safetensors, never a pickle: a folder that holds
only ``pytorch_model.bin`` is refused (unpickling a file can run arbitrary code), with the
one line that converts it where the file is trusted.

safetensors is simple enough to read by hand: 8 bytes giving the length of a JSON header,
the header (each tensor's dtype, shape and byte range), then the bytes. :func:`load_safetensors`
does that, so bfloat16 weights (most Llama and Qwen2 uploads), which NumPy has no dtype
for, load too: a bfloat16 is the top half of a float32, so shifting its 16 bits up by 16
gives the float32 exactly. A model too big for one file comes as shards listed in
``model.safetensors.index.json``; :func:`read_weights` reads those as well.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

WEIGHTS_FILE = "model.safetensors"
INDEX_FILE = "model.safetensors.index.json"

_DTYPES = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64,
    "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_,
}  # fmt: skip


def read_config(folder: Path, model_types: tuple[str, ...], kind: str) -> dict[str, Any]:
    """The dict of ``folder/config.json``, after checking its ``model_type``."""
    path = folder / "config.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"folder={str(folder)!r}: no config.json (expected a Hugging Face {kind} folder: "
            "config.json + model.safetensors)"
        )
    try:
        hf = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not valid JSON (truncated or corrupt?): {err}") from None
    if not isinstance(hf, dict):
        raise ValueError(f"{path}: expected a JSON object, got {type(hf).__name__}")
    model_type = hf.get("model_type", model_types[0])
    if model_type not in model_types:
        names = " or ".join(repr(t) for t in model_types)
        raise ValueError(f"config.json: model_type must be {names}, got {model_type!r}")
    return hf


def read_weights(folder: Path) -> dict[str, np.ndarray]:
    """Every tensor of the folder's ``model.safetensors`` (or of the shards its index names)."""
    if (folder / WEIGHTS_FILE).is_file():
        return load_safetensors(folder / WEIGHTS_FILE)
    if (folder / INDEX_FILE).is_file():
        index = json.loads((folder / INDEX_FILE).read_text(encoding="utf-8"))
        state: dict[str, np.ndarray] = {}
        for shard in sorted(set(index["weight_map"].values())):
            state.update(load_safetensors(folder / shard))
        return state
    if (folder / "pytorch_model.bin").is_file():
        raise ValueError(
            f"folder={str(folder)!r} holds only pytorch_model.bin, a Python pickle: "
            "loading a pickle can run arbitrary code, so groundup reads safetensors only. "
            "Convert it once where you trust the file: `from transformers import "
            "AutoModelForCausalLM; AutoModelForCausalLM.from_pretrained(folder)"
            ".save_pretrained(folder, safe_serialization=True)` writes model.safetensors."
        )
    raise FileNotFoundError(f"folder={str(folder)!r}: no {WEIGHTS_FILE}")


def load_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of one safetensors file as NumPy arrays (bfloat16 widened to float32)."""
    try:
        raw = np.memmap(path, dtype=np.uint8, mode="r")
        n = int(raw[:8].view("<u8")[0])
        if not 0 < n <= raw.size - 8:
            raise ValueError(f"header size {n} past the end of the file")
        header = json.loads(bytes(raw[8 : 8 + n]).decode("utf-8"))
        if not isinstance(header, dict):
            raise ValueError("the header is not a JSON object")
    except (ValueError, IndexError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not a readable safetensors file ({err})") from None
    body = raw[8 + n :]
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        if not 0 <= begin <= end <= body.size:
            raise ValueError(
                f"{path}: tensor {name!r} ends at byte {end:,} of {body.size:,}: the file is "
                "truncated"
            )
        chunk = body[begin:end]
        if entry["dtype"] == "BF16":  # the high 16 bits of a float32
            array = (chunk.view("<u2").astype(np.uint32) << 16).view(np.float32)
        elif entry["dtype"] in _DTYPES:
            array = chunk.view(np.dtype(_DTYPES[entry["dtype"]]).newbyteorder("<")).copy()
        else:
            raise ValueError(f"{path}: tensor {name!r} has dtype {entry['dtype']}, not supported")
        try:
            out[name] = array.reshape(entry["shape"])
        except ValueError:
            raise ValueError(
                f"{path}: tensor {name!r} has {array.size:,} values, not the shape "
                f"{entry['shape']} its header gives"
            ) from None
    return out


def load_pretrained(cls: Any, folder: str | os.PathLike, model_types: tuple[str, ...],
                    kind: str, to_config: Any, to_state: Any) -> Any:  # fmt: skip
    """The ``from_pretrained`` of GPT and Llama: read and check everything, then build.

    ``to_config(hf_dict)`` makes our config, ``to_state(weights, config)`` renames the
    weights to ours. Before anything is allocated, the weights must be finite and the
    config's sizes must match their shapes (``cls.sizes_from_state``): a config.json that
    says ``n_embd: 10**9`` is an error, not a 238 GiB allocation.
    """
    from dataclasses import asdict

    folder = Path(folder)
    hf = read_config(folder, model_types, kind)
    try:
        config = to_config(hf)
    except KeyError as err:
        raise ValueError(f"{folder / 'config.json'}: missing {err.args[0]!r}") from None
    except TypeError as err:  # a size of the wrong type
        raise ValueError(f"{folder / 'config.json'}: {err}") from None
    state = to_state(read_weights(folder), config)
    for name, array in state.items():
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise ValueError(f"{folder}: weight {name!r} holds NaN or infinity")
    fields = asdict(config)
    try:
        sizes = cls.sizes_from_state(state, fields)
    except (KeyError, IndexError, ValueError) as err:
        raise ValueError(f"{folder}: the weights are not those of a {kind} model ({err})") from None
    for name, size in sizes.items():
        if fields.get(name, size) != size:
            raise ValueError(
                f"{folder / 'config.json'}: {name} is {fields[name]!r} but the weights are "
                f"for {size}"
            )
    model = cls(config, seed=0)
    model.load_state_dict(state, strict=True)
    return model


def write_folder(folder: str | os.PathLike, state: dict[str, np.ndarray], config: dict) -> Path:
    """Write ``model.safetensors`` and ``config.json`` into folder, each atomically (a
    temporary file, then a rename)."""
    from safetensors.numpy import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (WEIGHTS_FILE + ".tmp")
    arrays = {k: np.ascontiguousarray(v) for k, v in state.items()}
    save_file(arrays, str(tmp), metadata={"format": "pt"})
    os.replace(tmp, folder / WEIGHTS_FILE)
    text = json.dumps(config, indent=2) + "\n"
    (folder / "config.json.tmp").write_text(text, encoding="utf-8")
    os.replace(folder / "config.json.tmp", folder / "config.json")
    return folder
