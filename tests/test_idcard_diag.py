"""`kiosk diag idcard`: output, masking, and one exit code per fault, over real ptys."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date

import pytest

from kiosk.cli import main
from kiosk.devices.idcard.codec import Command
from kiosk.devices.idcard.demo_cards import resident_card
from kiosk.devices.idcard.simulator import Fault, FaultKind, IdCardSimulator
from kiosk.domain.identity import build_id_number


@pytest.fixture
def simulator() -> Iterator[IdCardSimulator]:
    with IdCardSimulator() as sim:
        yield sim


def _diag(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, dict, str]:
    code = main(["diag", "idcard", "--json", *args])
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def test_demo_mode_reads_the_simulated_card_as_a_subprocess() -> None:
    """The real command line in demo config: starts the simulator, prints one JSON object."""
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", "diag", "idcard", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["ok"] is True and result["sam_id"].startswith("05.01-")
    card = result["card"]
    assert set(card) >= {
        "type",
        "name",
        "sex",
        "nation",
        "birth_date",
        "address",
        "id_number",
        "authority",
        "valid_from",
        "valid_to",
    }
    assert (
        card["name"] == "王*军"
        and card["id_number"].startswith("1404")
        and "*" in card["id_number"]
    )
    assert "Traceback" not in done.stderr


def test_unmasked_text_output(simulator: IdCardSimulator, capsys) -> None:
    simulator.place("long_term")
    code = main(["diag", "idcard", "--port", simulator.url, "--unmasked", "--timeout", "5"])
    out = capsys.readouterr().out
    assert code == 0
    assert "李秀兰" in out and "长期" in out and "1951-10-02" in out and "SAM ID" in out


def test_masked_json(simulator: IdCardSimulator, capsys) -> None:
    simulator.place("resident")
    code, result, _ = _diag(capsys, "--port", simulator.url)
    assert code == 0
    assert result["card"]["name"] == "王*军" and result["card"]["birth_date"] == "1968-**-**"


def test_port_cannot_open(capsys) -> None:
    code, result, _ = _diag(capsys, "--port", "/dev/does-not-exist-idcard")
    assert (code, result["ok"], result["error"]) == (3, False, "port")


def test_no_answer(capsys) -> None:
    master, slave = os.openpty()
    try:
        code, result, _ = _diag(capsys, "--port", os.ttyname(slave))
    finally:
        os.close(master)
        os.close(slave)
    assert (code, result["error"]) == (4, "timeout")


def test_garbled_answers(simulator: IdCardSimulator, capsys) -> None:
    simulator.add_fault(Fault(FaultKind.CORRUPT_CHECKSUM, times=10))
    code, result, _ = _diag(capsys, "--port", simulator.url)
    assert (code, result["error"]) == (4, "checksum")


def test_sam_fault(simulator: IdCardSimulator, capsys) -> None:
    simulator.set_sam_fault(0x66)
    code, result, _ = _diag(capsys, "--port", simulator.url)
    assert (code, result["error"], result["sam_status"]) == (5, "sam_fault", "fault 66")


def test_no_card_within_timeout(simulator: IdCardSimulator, capsys) -> None:
    code, result, _ = _diag(capsys, "--port", simulator.url, "--timeout", "0.5")
    assert (code, result["error"], result["sam_status"]) == (6, "no_card", "ok")


def test_card_read_failed(simulator: IdCardSimulator, capsys) -> None:
    simulator.place("resident")
    simulator.add_fault(Fault(FaultKind.LIFT_CARD, Command.READ_BASE))
    code, result, _ = _diag(capsys, "--port", simulator.url, "--timeout", "5")
    assert (code, result["error"]) == (7, "card_read_failed")


def test_unsupported_card(simulator: IdCardSimulator, capsys) -> None:
    simulator.place("unknown")
    code, result, _ = _diag(capsys, "--port", simulator.url, "--timeout", "5")
    assert (code, result["error"], result["card"]["type"]) == (8, "unsupported_card", "unsupported")


def test_invalid_id_number_on_card(simulator: IdCardSimulator, capsys) -> None:
    good = build_id_number("140431", date(1972, 2, 9), 15)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    simulator.place(
        resident_card(
            "bad-check",
            name="刘志强",
            sex="1",
            nation="01",
            birth=date(1972, 2, 9),
            address="山西省沁源县韩洪乡韩洪村3号",
            id_number=bad,
            valid_from="20160101",
            valid_to="20360101",
        )
    )
    code, result, err = _diag(capsys, "--port", simulator.url, "--timeout", "5")
    assert (code, result["error"], result["card"]["id_problem"]) == (
        9,
        "invalid_id_number",
        "checksum",
    )
    assert result["card"]["id_valid"] is False


def test_one_line_message_without_traceback(capsys) -> None:
    code = main(["diag", "idcard", "--port", "/dev/does-not-exist-idcard"])
    err = capsys.readouterr().err
    assert code == 3
    lines = [line for line in err.splitlines() if line.startswith("FAILED")]
    assert len(lines) == 1 and "exit 3" in lines[0] and "Traceback" not in err


def test_bad_timeout_and_unknown_demo_card_are_usage_errors(capsys) -> None:
    code, result, _ = _diag(capsys, "--timeout", "0")
    assert code == 2
    code, result, _ = _diag(capsys, "--demo-card", "nosuch")
    assert code == 2 and "nosuch" in result["message"]


def test_help_documents_every_exit_code(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["diag", "idcard", "--help"])
    out = capsys.readouterr().out
    for code in range(2, 10):
        assert f"\n  {code}  " in out
    assert "--unmasked" in out and "--timeout" in out
