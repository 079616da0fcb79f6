import subprocess
import sys

from groundup.cli import build_parser, main


def test_help_lists_commands(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "groundup" in out


def test_version():
    parser = build_parser()
    try:
        parser.parse_args(["--version"])
    except SystemExit as exit_:
        assert exit_.code == 0


def test_start_up_imports_no_numpy():
    code = "import sys, groundup.cli; groundup.cli.build_parser(); print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
