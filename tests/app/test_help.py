"""Every command answers --help: argparse formats help texts with %, so a bare "10%" in one
(micrograd's "every 10% of the steps") made `groundup micrograd --help` a traceback."""

from __future__ import annotations

import argparse

import pytest

from groundup.app.cli import build_parser, main


def _parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, (*path, name))


COMMANDS = [path for path, _ in _parsers(build_parser())]


def test_every_command_is_listed():
    for command in (("micrograd",), ("train", "bigram"), ("train", "mlp"), ("train", "gpt"),
                    ("train", "llama"), ("sample",), ("journey",)):  # fmt: skip
        assert command in COMMANDS


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "groundup")
def test_help_answers_and_names_every_flag(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: groundup")
    parser = dict(_parsers(build_parser()))[command]
    for action in parser._actions:
        for flag in action.option_strings:
            assert flag in out, flag


def test_the_saves_along_the_way_read_as_written(capsys):
    with pytest.raises(SystemExit):
        main(["micrograd", "--help"])
    assert "every 10% of the steps" in " ".join(capsys.readouterr().out.split())
