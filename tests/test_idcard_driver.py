"""The driver's protocol steps against the simulator through a real pty, with scripted faults."""

from __future__ import annotations

import os
import select
import socket
import threading
import time
import tty
from collections.abc import Iterator
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.devices.idcard import codec, errors
from kiosk.devices.idcard.cards import IdCard, UnsupportedCard
from kiosk.devices.idcard.codec import Command, Response
from kiosk.devices.idcard.driver import IdCardReader, StepTimeouts
from kiosk.devices.idcard.simulator import Fault, FaultKind, IdCardSimulator

# Generous: the machine is shared; these bound hangs, they are not performance claims.
TIMEOUTS = StepTimeouts(sam=1.0, card=1.0, read=3.5)
FULL_READ = [Command.FIND_CARD, Command.SELECT_CARD, Command.READ_BASE]


@pytest.fixture
def simulator() -> Iterator[IdCardSimulator]:
    with IdCardSimulator() as sim:
        yield sim


@pytest.fixture
def reader(simulator: IdCardSimulator) -> Iterator[IdCardReader]:
    driver = IdCardReader(
        simulator.url,
        read_appended_address=False,
        timeouts=TIMEOUTS,
        today=lambda: date(2026, 11, 29),
    )
    driver.connect()
    yield driver
    driver.disconnect()


def test_sam_status_and_id(reader: IdCardReader, simulator: IdCardSimulator) -> None:
    reader.reset_sam()
    reader.sam_status()
    assert reader.read_sam_id() == "05.01-20220301-0012345678-1234567890"
    assert simulator.received == [Command.RESET_SAM, Command.SAM_STATUS, Command.READ_SAM_ID]


def test_full_read_sends_find_select_read_and_decodes(
    reader: IdCardReader, simulator: IdCardSimulator
) -> None:
    simulator.place("resident")
    card = reader.read_card_present()
    assert isinstance(card, IdCard) and card.name == "王建军" and card.id_problem == ""
    assert bytes(card.photo) == simulator.card.photo
    assert simulator.received == FULL_READ
    out, received = reader.wire_bytes
    assert out == 30  # three 10-byte command frames
    assert received == 15 + 19 + 1295  # find OK, select OK (8 bytes), read


def test_after_a_read_find_fails_until_the_card_is_laid_again(
    reader: IdCardReader, simulator: IdCardSimulator
) -> None:
    simulator.place("resident")
    assert reader.read_card_present() is not None
    assert reader.find_card() is False
    assert reader.probe_card() is True  # still on the reader
    simulator.lift()
    assert reader.probe_card() is False
    simulator.place("resident")
    assert reader.find_card() is True


def test_no_card(reader: IdCardReader) -> None:
    assert reader.find_card() is False
    assert reader.read_card_present() is None


def test_appended_address_and_no_content(simulator: IdCardSimulator) -> None:
    driver = IdCardReader(simulator.url, timeouts=TIMEOUTS)
    driver.connect()
    try:
        simulator.place("appended")
        card = driver.read_card_present()
        assert card.current_address == "山西省沁源县王和镇王和村58号"
        simulator.place("resident")  # no appended address: SW3 91
        card = driver.read_card_present()
        assert card.appended_addresses == () and card.current_address == card.address
        assert simulator.received[-1] is Command.READ_APPENDED_ADDRESS
    finally:
        driver.disconnect()


def test_fingerprint_read_and_fallback_when_reader_lacks_it() -> None:
    with IdCardSimulator() as sim:
        driver = IdCardReader(sim.url, read_fingerprint=True, read_appended_address=False)
        driver.connect()
        sim.place("fingerprint")
        card = driver.read_card_present()
        assert len(card.fingerprint) == 1024 and sim.received[-1] is Command.READ_BASE_FINGERPRINT
        driver.disconnect()
    with IdCardSimulator(supports_fingerprint=False) as sim:
        driver = IdCardReader(sim.url, read_fingerprint=True, read_appended_address=False)
        driver.connect()
        sim.place("fingerprint")
        card = driver.read_card_present()
        assert card.fingerprint == bytearray() and card.name == "赵国栋"
        assert sim.received[-2:] == [Command.READ_BASE_FINGERPRINT, Command.READ_BASE]
        assert driver.read_fingerprint is False
        driver.disconnect()


def test_unsupported_layout_is_returned_not_raised(
    reader: IdCardReader, simulator: IdCardSimulator
) -> None:
    simulator.place("unknown")
    assert isinstance(reader.read_card_present(), UnsupportedCard)


@pytest.mark.parametrize(
    "kind",
    [FaultKind.CORRUPT_CHECKSUM, FaultKind.TRUNCATE, FaultKind.NO_ANSWER],
)
@pytest.mark.parametrize("command", [Command.FIND_CARD, Command.READ_BASE])
def test_one_bad_answer_is_retried_and_the_read_succeeds(
    reader: IdCardReader, simulator: IdCardSimulator, kind: FaultKind, command: Command
) -> None:
    """GIVEN one corrupt, cut or missing answer WHEN reading THEN one retry fixes it."""
    reader.timeouts = StepTimeouts(sam=0.5, card=0.5, read=1.0)
    simulator.place("resident")
    simulator.add_fault(Fault(kind, command))
    card = reader.read_card_present()
    assert isinstance(card, IdCard) and card.name == "王建军"
    assert reader.counters.snapshot()["retries"] == 1
    assert simulator.received.count(command) == 2


def test_garbage_before_the_answer_is_skipped_without_retry(
    reader: IdCardReader, simulator: IdCardSimulator
) -> None:
    simulator.place("resident")
    for command in FULL_READ:
        simulator.add_fault(Fault(FaultKind.GARBAGE_BEFORE, command))
    simulator.send_raw(b"\xaa\xaa\xaa\x96\x69\x00")  # unsolicited junk before we even ask
    assert reader.read_card_present().name == "王建军"
    assert "retries" not in reader.counters.snapshot()
    assert simulator.received == FULL_READ


def test_slow_answer_within_the_timeout_is_waited_for(
    reader: IdCardReader, simulator: IdCardSimulator
) -> None:
    simulator.place("resident")
    simulator.add_fault(Fault(FaultKind.SLOW, Command.READ_BASE, delay=0.3))
    assert reader.read_card_present().name == "王建军"
    assert "retries" not in reader.counters.snapshot()


def test_answer_later_than_the_timeout_is_not_taken_for_the_next_command(
    reader: IdCardReader, simulator: IdCardSimulator
) -> None:
    """GIVEN a find answer that arrives after the timeout WHEN the driver retries and goes on
    THEN the late 9F answer is never mistaken for the select's or read's answer."""
    reader.timeouts = StepTimeouts(sam=0.3, card=0.3, read=2.0)
    simulator.place("resident")
    simulator.add_fault(Fault(FaultKind.SLOW, Command.FIND_CARD, delay=0.6))
    card = reader.read_card_present()
    assert isinstance(card, IdCard) and card.name == "王建军"


def test_reader_that_never_answers_times_out_within_the_bound(
    reader: IdCardReader, simulator: IdCardSimulator
) -> None:
    reader.timeouts = StepTimeouts(sam=0.2, card=0.2, read=0.2)
    simulator.add_fault(Fault(FaultKind.NO_ANSWER, None, times=100))
    started = time.monotonic()
    with pytest.raises(errors.ReaderTimeout):
        reader.sam_status()
    assert time.monotonic() - started < 30  # bounded (3 × 0.2 s nominal); no hang
    assert reader.counters.snapshot()["timeout"] == 3


def test_reader_that_always_sends_bad_checksums_raises_checksum_mismatch(
    reader: IdCardReader, simulator: IdCardSimulator
) -> None:
    simulator.add_fault(Fault(FaultKind.CORRUPT_CHECKSUM, None, times=100))
    with pytest.raises(errors.ChecksumMismatch):
        reader.sam_status()
    assert simulator.received == [Command.SAM_STATUS] * 3


@pytest.mark.parametrize(
    ("sw3", "error_class"),
    [
        (0x10, errors.FrameRejected),
        (0x11, errors.FrameRejected),
        (0x21, errors.CommandRejected),
        (0x23, errors.CommandRejected),
        (0x24, errors.SamFault),
        (0x31, errors.CardAuthFailed),
        (0x32, errors.CardAuthFailed),
        (0x33, errors.CardReadFailed),
        (0x40, errors.NotAnIdCard),
        (0x41, errors.CardReadFailed),
        (0x47, errors.CardReadFailed),
        (0x60, errors.SamFault),
        (0x66, errors.SamFault),
        (0x91, errors.NoContent),
    ],
)
def test_each_sw3_error_of_the_read_raises_its_typed_error(
    reader: IdCardReader, simulator: IdCardSimulator, sw3: int, error_class: type
) -> None:
    simulator.place("resident")
    simulator.add_fault(Fault(FaultKind.STATUS, Command.READ_BASE, sw3=sw3, times=5))
    with pytest.raises(error_class) as raised:
        reader.read_card_present()
    assert raised.value.sw3 == sw3


def test_card_lifted_between_select_and_read(
    reader: IdCardReader, simulator: IdCardSimulator
) -> None:
    simulator.place("resident")
    simulator.add_fault(Fault(FaultKind.LIFT_CARD, Command.READ_BASE))
    with pytest.raises(errors.CardReadFailed) as raised:
        reader.read_card_present()
    assert raised.value.sw3 == 0x41


def test_select_failed(reader: IdCardReader, simulator: IdCardSimulator) -> None:
    simulator.place("resident")
    simulator.add_fault(Fault(FaultKind.LIFT_CARD, Command.SELECT_CARD))
    with pytest.raises(errors.SelectFailed):
        reader.read_card_present()


def test_sam_fault_and_reset(reader: IdCardReader, simulator: IdCardSimulator) -> None:
    simulator.set_sam_fault(0x60, sticky=False)
    with pytest.raises(errors.SamFault):
        reader.sam_status()
    reader.reset_sam()
    reader.sam_status()


def test_missing_port_is_a_port_error() -> None:
    driver = IdCardReader("/dev/does-not-exist-idcard")
    with pytest.raises(errors.PortError):
        driver.connect()


def test_unplug_mid_session_is_a_port_error(
    reader: IdCardReader, simulator: IdCardSimulator
) -> None:
    simulator.unplug()
    with pytest.raises(errors.PortError):
        for _ in range(3):  # the first write may still land in the pty buffer
            reader.sam_status()


def test_silent_port_times_out() -> None:
    master, slave = os.openpty()
    try:
        driver = IdCardReader(os.ttyname(slave), timeouts=StepTimeouts(0.1, 0.1, 0.1), retries=0)
        driver.connect()
        with pytest.raises(errors.ReaderTimeout):
            driver.sam_status()
        driver.disconnect()
    finally:
        os.close(master)
        os.close(slave)


def test_spy_url_transport_works(simulator: IdCardSimulator) -> None:
    """Any pyserial URL: here spy:// wrapping the pty, as an engineer would trace a reader."""
    import io

    trace = io.StringIO()

    def open_spy(url: str, **kwargs):
        import serial

        port = serial.serial_for_url(f"spy://{url}?file=/dev/null", **kwargs)
        port.formatter.output = trace
        return port

    driver = IdCardReader(simulator.url, open_port=open_spy, read_appended_address=False)
    driver.connect()
    try:
        simulator.place("long_term")
        assert driver.read_card_present().long_term
    finally:
        driver.disconnect()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    answer=st.binary(max_size=80)
    | st.builds(
        lambda g, p: g + codec.encode_frame(p), st.binary(max_size=20), st.binary(max_size=40)
    )
)
def test_any_answer_bytes_give_a_response_or_a_typed_error(
    reader: IdCardReader, simulator: IdCardSimulator, answer: bytes
) -> None:
    """Whatever bytes come back over the pty, the step ends within its timeout with a Response
    (the SW3 then decides) or an IdCardError: never another exception, never a hang."""
    reader.timeouts = StepTimeouts(sam=0.1, card=0.1, read=0.1)
    reader.retries = 0
    simulator.add_fault(Fault(FaultKind.REPLACE, Command.SAM_STATUS, data=answer))
    started = time.monotonic()
    try:
        response = reader.transact(Command.SAM_STATUS, timeout=0.1)
    except errors.IdCardError:
        pass
    else:
        assert isinstance(response, Response)
    assert time.monotonic() - started < 30


class _TcpBridge:
    """A ser2net-like TCP server relaying one client to the simulator's serial port."""

    def __init__(self, tty_path: str) -> None:
        self._tty = os.open(tty_path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self._tty)
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        self._server.settimeout(5)
        client, _ = self._server.accept()
        with client:
            while not self._stop.is_set():
                ready, _, _ = select.select([client, self._tty], [], [], 0.05)
                if client in ready:
                    data = client.recv(4096)
                    if not data:
                        return
                    os.write(self._tty, data)
                if self._tty in ready:
                    client.sendall(os.read(self._tty, 4096))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._server.close()
        os.close(self._tty)


def test_socket_url_transport(simulator: IdCardSimulator) -> None:
    """A reader behind a serial-to-network converter: pyserial's socket:// URL."""
    bridge = _TcpBridge(simulator.url)
    driver = IdCardReader(f"socket://127.0.0.1:{bridge.port}", read_appended_address=False)
    try:
        driver.connect()
        driver.sam_status()
        simulator.place("foreigner")
        assert driver.read_card_present().english_name == "MILLER, ANNA"
    finally:
        driver.disconnect()
        bridge.close()
