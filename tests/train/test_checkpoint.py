"""Checkpoints: round trips, crash safety, clear errors, no pickle."""

from __future__ import annotations

import os

import numpy as np
import pytest

import groundup.nn as nn
from groundup.optim import AdamW
from groundup.tokenizers import CharTokenizer
from groundup.train import checkpoint as ck
from groundup.train import load_checkpoint, save_checkpoint


def model_and_optimizer(seed=0):
    model = nn.Sequential(
        nn.Linear(3, 4, generator=seed),
        nn.BatchNorm1d(4),
        nn.Tanh(),
        nn.Dropout(0.2, generator=seed),
        nn.Linear(4, 2, generator=seed + 1),
    )
    decay = [p for n, p in model.named_parameters() if n.endswith("weight")]
    rest = [p for n, p in model.named_parameters() if not n.endswith("weight")]
    opt = AdamW([{"params": decay}, {"params": rest, "weight_decay": 0.0}], lr=0.01)
    return model, opt


def one_step(model, opt, seed=0):
    x = np.random.default_rng(seed).normal(size=(8, 3)).astype(np.float32)
    loss = (model(x) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


def test_round_trip_restores_everything(tmp_path):
    model, opt = model_and_optimizer()
    one_step(model, opt)
    tok = CharTokenizer.from_words(["emma", "ava"])
    folder = save_checkpoint(tmp_path / "ckpt", model, {"training": {"lr": 0.01}}, opt,
                             {"step": 1}, tok)  # fmt: skip
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [
            "model.safetensors",
            "optimizer.safetensors",
            "manifest.json",
            "config.json",
            "state.json",
            "groundup_tokenizer.json",
        ]  # fmt: skip
    )
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]  # no temporary leftovers
    ckpt = load_checkpoint(folder)
    assert ckpt.step == 1 and ckpt.config == {"training": {"lr": 0.01}}
    assert ckpt.tokenizer.encode("ava") == tok.encode("ava")
    other, other_opt = model_and_optimizer(seed=5)
    ckpt.restore(other, other_opt)
    for (k, a), b in zip(model.state_dict().items(), other.state_dict().values(), strict=True):
        np.testing.assert_array_equal(a, b, err_msg=k)
    assert other_opt.param_groups[1]["weight_decay"] == 0.0
    assert other_opt.param_groups[0]["betas"] == (0.9, 0.999)
    # same state from here on: same next losses, dropout masks included
    assert one_step(model, opt, 1) == one_step(other, other_opt, 1)
    assert one_step(model, opt, 2) == one_step(other, other_opt, 2)


def test_run_folder_resolves_to_its_checkpoint(tmp_path):
    model, _ = model_and_optimizer()
    save_checkpoint(tmp_path / "run" / "checkpoint", model)
    assert load_checkpoint(tmp_path / "run").folder == tmp_path / "run" / "checkpoint"
    assert load_checkpoint(tmp_path / "run").optimizer_state is None


def test_crash_while_saving_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    model, opt = model_and_optimizer()
    folder = save_checkpoint(tmp_path / "ckpt", model, {"v": "old"}, opt, {"step": 1})
    old = load_checkpoint(folder).model_state
    one_step(model, opt)

    class Exploding:
        def save(self, where):
            (where / "groundup_tokenizer.json").write_text("{half")
            raise KeyboardInterrupt  # the process dies mid-save

    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(folder, model, {"v": "new"}, opt, {"step": 2}, Exploding())
    ckpt = load_checkpoint(folder)
    assert ckpt.config == {"v": "old"} and ckpt.step == 1
    for k, v in old.items():
        np.testing.assert_array_equal(ckpt.model_state[k], v)
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]


def test_crash_between_the_two_renames_falls_back_to_backup(tmp_path, monkeypatch):
    model, opt = model_and_optimizer()
    folder = save_checkpoint(tmp_path / "ckpt", model, {"v": "old"}, opt, {"step": 1})
    real_replace, calls = os.replace, []

    def replace(src, dst):
        if os.path.isdir(src):
            calls.append(src)
        if len(calls) == 2:  # the old folder moved away, the new one not yet in place
            raise SystemExit("power cut")
        return real_replace(src, dst)

    monkeypatch.setattr(ck.os, "replace", replace)
    with pytest.raises(SystemExit):
        save_checkpoint(folder, model, {"v": "new"}, opt, {"step": 2})
    monkeypatch.undo()
    assert not folder.exists()
    assert load_checkpoint(folder).config == {"v": "old"}  # from the backup
    save_checkpoint(folder, model, {"v": "newer"}, opt, {"step": 3})  # cleans up leftovers
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]
    assert load_checkpoint(folder).step == 3


@pytest.mark.parametrize("manifest", [True, False], ids=["manifest", "legacy"])
def test_truncated_or_corrupt_files_are_named(tmp_path, manifest):
    """With a manifest every change is caught by its sha256; a checkpoint from before
    manifests still names the file that cannot be read."""
    model, opt = model_and_optimizer()

    def fresh():
        folder = save_checkpoint(tmp_path / "ckpt", model, {}, opt, {"step": 1})
        if not manifest:
            (folder / "manifest.json").unlink()
        return folder

    why = r"does not match manifest\.json" if manifest else None
    folder = fresh()
    data = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"model\.safetensors: " + (why or "not a readable")):
        load_checkpoint(folder)
    folder = fresh()
    (folder / "optimizer.safetensors").write_bytes(b"\x00" * 5)
    with pytest.raises(ValueError, match=r"optimizer\.safetensors"):
        load_checkpoint(folder)
    folder = fresh()
    (folder / "state.json").write_text('{"step": ')
    with pytest.raises(ValueError, match=r"state\.json: " + (why or "not valid JSON")):
        load_checkpoint(folder)


def test_one_flipped_bit_is_refused(tmp_path):
    model, opt = model_and_optimizer()
    folder = save_checkpoint(tmp_path / "ckpt", model, {}, opt, {"step": 1})
    data = bytearray((folder / "model.safetensors").read_bytes())
    data[-3] ^= 0x10  # inside the last float: still a valid file, another number
    (folder / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"model\.safetensors: does not match manifest"):
        load_checkpoint(folder)


def test_non_finite_weights_are_refused(tmp_path):
    model, opt = model_and_optimizer()
    next(iter(model.parameters())).data[0, 0] = np.nan
    folder = save_checkpoint(tmp_path / "ckpt", model, {}, opt, {"step": 1})
    with pytest.raises(ValueError, match=r"holds NaN or infinity"):
        load_checkpoint(folder)


def test_resume_takes_the_newest_complete_checkpoint(tmp_path):
    """Backups and half-deleted folders never win over a complete, newer checkpoint."""
    model, opt = model_and_optimizer()
    run = tmp_path / "run"
    save_checkpoint(run / "checkpoint", model, {}, opt, {"step": 12})
    save_checkpoint(run / "last", model, {}, opt, {"step": 9})
    stale = save_checkpoint(run / ".last.old-1-2", model, {}, opt, {"step": 20})
    (stale / "model.safetensors").unlink()  # half deleted: must not be taken
    assert ck.newest_checkpoint(run, ("last", "checkpoint")) == run / "checkpoint"
    step, _ = ck.resume(run, model, opt)
    assert step == 12
    import shutil

    shutil.rmtree(run / "last")  # no last/ at all: the complete checkpoint/ is enough
    assert ck.resume(run, model, opt)[0] == 12


def test_mismatched_model_is_named(tmp_path):
    model, _ = model_and_optimizer()
    folder = save_checkpoint(tmp_path / "ckpt", model)
    wrong = nn.Sequential(nn.Linear(3, 5))
    with pytest.raises(ValueError, match=r"model\.safetensors: does not fit") as e:
        load_checkpoint(folder).restore(wrong)
    assert "0.weight: state has (4, 3), model has (5, 3)" in str(e.value)
    assert "unexpected keys" in str(e.value)


def test_no_pickle_anywhere():
    import inspect

    source = inspect.getsource(ck)
    assert "pickle" not in source.replace("never unpickles", "") and "np.load(" not in source


def test_build_model_from_config_needs_model_entry(tmp_path):
    model, _ = model_and_optimizer()
    ckpt = load_checkpoint(save_checkpoint(tmp_path / "c", model))
    with pytest.raises(ValueError, match="no 'model' entry"):
        ckpt.build_model()


def test_a_full_disk_is_an_oserror_and_leaves_the_old_checkpoint(tmp_path, monkeypatch):
    import errno

    import safetensors.numpy

    model, opt = model_and_optimizer()
    folder = save_checkpoint(tmp_path / "ckpt", model, {}, opt, {"step": 1})

    def full(*args, **kwargs):
        raise RuntimeError("Error while serializing: I/O error: No space left (os error 28)")

    monkeypatch.setattr(safetensors.numpy, "save_file", full)
    with pytest.raises(OSError) as err:
        save_checkpoint(tmp_path / "ckpt", model, {}, opt, {"step": 2})
    assert err.value.errno == errno.ENOSPC
    assert load_checkpoint(folder).step == 1  # the old one, complete
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]  # no temporary folder left
