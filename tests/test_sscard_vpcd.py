"""vpcd framing of the virtual card's transport, over a real socket pair (no pcscd needed).

The socket pair plays vpcd's side byte for byte: 2-byte big-endian length + payload, 1-byte
control payloads (only "get ATR" is answered), APDUs answered with the response APDU.
"""

from __future__ import annotations

import socket
import struct
import threading

import pytest

from kiosk.devices.sscard import apdu
from kiosk.devices.sscard.virtual_card import VirtualCard, demo_profiles
from kiosk.devices.sscard.vpcd import (
    VpcdCardSlot,
    VpcdProtocolError,
    read_frame,
    write_frame,
)

PROFILES = demo_profiles()


def test_frames_round_trip_and_reject_empty_and_truncated():
    ours, theirs = socket.socketpair()
    with ours, theirs:
        write_frame(ours, b"\x04")
        assert read_frame(theirs) == b"\x04"
        theirs.sendall(b"\x00\x00")
        with pytest.raises(VpcdProtocolError):
            read_frame(ours)
        theirs.sendall(b"\x00\x05ab")
        theirs.shutdown(socket.SHUT_WR)
        with pytest.raises(EOFError):
            read_frame(ours)
    with pytest.raises(ValueError):
        write_frame(socket.socket(), b"x" * 70000)


def _fake_vpcd_listener():
    server = socket.create_server(("127.0.0.1", 0))
    return server, server.getsockname()[1]


def _send(conn: socket.socket, payload: bytes) -> None:
    conn.sendall(struct.pack(">H", len(payload)) + payload)


def test_slot_speaks_the_vpcd_protocol_and_removal_closes_the_socket():
    """GIVEN a listener in vpcd's place WHEN a card is inserted THEN ATR and APDUs flow."""
    server, port = _fake_vpcd_listener()
    slot = VpcdCardSlot(port=port)
    slot.start()
    try:
        card = VirtualCard(PROFILES["gen2"])
        slot.insert(card)
        server.settimeout(10)
        conn, _ = server.accept()
        conn.settimeout(10)
        with conn:
            _send(conn, b"\x01")  # power on: no answer
            _send(conn, b"\x04")  # get ATR
            assert read_frame(conn) == card.atr
            _send(conn, apdu.select_by_name())
            assert read_frame(conn)[:1] == b"\x61"
            assert card.received == [apdu.select_by_name()]
            slot.remove()
            assert conn.recv(16) == b""  # the socket closed: vpcd reports the slot empty
    finally:
        slot.stop()
        server.close()


def test_slot_reconnects_while_a_card_stays_inserted():
    """GIVEN a card inserted WHEN vpcd drops the connection (pcscd restart) THEN it reconnects."""
    server, port = _fake_vpcd_listener()
    slot = VpcdCardSlot(port=port)
    slot.start()
    try:
        slot.insert(VirtualCard(PROFILES["gen1"]))
        server.settimeout(10)
        first, _ = server.accept()
        first.close()
        second, _ = server.accept()
        second.settimeout(10)
        with second:
            _send(second, b"\x04")
            assert read_frame(second) == PROFILES["gen1"].atr
    finally:
        slot.stop()
        server.close()


def test_pulled_card_closes_the_connection_mid_read():
    server, port = _fake_vpcd_listener()
    slot = VpcdCardSlot(port=port)
    slot.start()
    done = threading.Event()
    try:
        slot.insert(VirtualCard(PROFILES["pulled_mid_read"]))
        server.settimeout(10)
        conn, _ = server.accept()
        conn.settimeout(10)
        with conn:
            answers = 0
            for _ in range(10):
                _send(conn, apdu.select_file(0xEF05))
                try:
                    read_frame(conn)
                    answers += 1
                except EOFError:
                    done.set()
                    break
        assert done.is_set() and answers == PROFILES["pulled_mid_read"].pull_after_commands
        assert slot.card is None
    finally:
        slot.stop()
        server.close()
