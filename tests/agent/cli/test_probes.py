"""``capmon probes list`` / ``capmon probes sample``, called through their own parser and handlers."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from agent.cli import probes as cli_probes
from probes.base import make_item
from probes.registry import builtin_registry

EXAMPLE = str(Path(__file__).resolve().parents[3] / "probes" / "examples" / "retail.yaml")


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="capmon")
    cli_probes.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


def test_list_shows_every_family_with_levels(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["probes", "list"]) == 0
    out = capsys.readouterr().out
    registry = builtin_registry()
    assert len(registry) >= 16
    for family in registry:
        assert family.name in out
        assert family.skill in out
    # Every family's top level; the formula is wrapped by the table, so check its first word.
    for family in registry:
        assert f"{family.top}" in out and family.formula.split()[0] in out


def test_list_with_templates(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["probes", "list", "--templates", EXAMPLE]) == 0
    assert "invoice_total" in capsys.readouterr().out


def test_sample_prints_prompt_and_reference(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["probes", "sample", "arithmetic", "--difficulty", "4", "--novelty", "1", "--seed", "7"]) == 0
    out = capsys.readouterr().out
    item = make_item(builtin_registry().get("arithmetic"), cli_probes.SAMPLE_SALT, 7, 4, 1)
    assert item.prompt in out
    assert out.rstrip().endswith(item.answer)
    assert builtin_registry().get("arithmetic").describe(4) in out


def test_sample_beyond_the_old_level_ten_and_outside_the_top(capsys: pytest.CaptureFixture[str]) -> None:
    arithmetic = builtin_registry().get("arithmetic")
    assert run(["probes", "sample", "arithmetic", "-d", "25"]) == 0
    assert make_item(arithmetic, cli_probes.SAMPLE_SALT, 0, 25, 0).prompt in capsys.readouterr().out
    assert run(["probes", "sample", "arithmetic", "-d", str(arithmetic.top + 1)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"1..{arithmetic.top}" in err


def test_sample_is_reproducible(capsys: pytest.CaptureFixture[str]) -> None:
    run(["probes", "sample", "knights_knaves", "-d", "5", "-n", "3", "-s", "11"])
    first = capsys.readouterr().out
    run(["probes", "sample", "knights_knaves", "-d", "5", "-n", "3", "-s", "11"])
    assert capsys.readouterr().out == first
    run(["probes", "sample", "knights_knaves", "-d", "5", "-n", "3", "-s", "12"])
    assert capsys.readouterr().out != first


def test_sample_static_canary(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["probes", "sample", "word_problem", "--static", "-s", "3"]) == 0
    from probes.base import make_static_item

    item = make_static_item(builtin_registry().get("word_problem"), 3, 1, 0)
    assert item.prompt in capsys.readouterr().out


def test_unknown_family_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["probes", "sample", "no_such_family"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "no_such_family" in captured.err


def test_bad_template_file_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("families: [{name: x}]\n")
    assert run(["probes", "list", "--templates", str(bad)]) == 2
    assert str(bad) in capsys.readouterr().err


def test_levels_out_of_range_are_usage_errors() -> None:
    top = builtin_registry().get("arithmetic").top
    for level in ("0", str(top + 1)):
        assert run(["probes", "sample", "arithmetic", "--difficulty", level]) == 2
    with pytest.raises(SystemExit) as exc:
        run(["probes", "sample", "arithmetic", "--novelty", "4"])
    assert exc.value.code == 2
