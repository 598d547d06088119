"""A strict BER-TLV parser (ISO/IEC 7816-4 §5.2) over bytes; pure, no I/O.

Tags are returned as ints of their raw bytes (``0x9F0C``, ``0x4E``); constructed objects keep
their raw value and can be parsed again with :func:`parse`. Padding bytes ``00``/``FF`` between
objects are skipped, as the standard allows. Anything else that does not parse raises
:class:`~kiosk.devices.sscard.errors.TlvError` — never IndexError or a silent truncation.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.devices.sscard.errors import TlvError

_MAX_TAG_BYTES = 3
_MAX_LENGTH_BYTES = 3  # 0x83 LL LL LL: 16 MiB is far beyond any card answer


@dataclass(frozen=True)
class Tlv:
    """One data object: ``tag`` as an int of its raw bytes, ``value`` the raw value bytes."""

    tag: int
    value: bytes

    @property
    def constructed(self) -> bool:
        first = self.tag.to_bytes((self.tag.bit_length() + 7) // 8 or 1, "big")[0]
        return bool(first & 0x20)

    def children(self) -> list[Tlv]:
        """Parse the value as nested TLVs (raises TlvError if this object is primitive)."""
        if not self.constructed:
            raise TlvError(f"tag {self.tag:02X} is primitive, it has no children")
        return parse(self.value)

    def __repr__(self) -> str:  # values may be personal data: show only their length
        return f"Tlv(tag=0x{self.tag:02X}, len={len(self.value)})"


def parse(data: bytes) -> list[Tlv]:
    """Parse a concatenation of BER-TLV objects; raises TlvError on any malformation."""
    objects: list[Tlv] = []
    pos = 0
    end = len(data)
    while pos < end:
        if data[pos] in (0x00, 0xFF):
            pos += 1
            continue
        tag, pos = _read_tag(data, pos)
        length, pos = _read_length(data, pos)
        if pos + length > end:
            raise TlvError(f"tag {tag:02X}: length {length} runs past the end ({end - pos} left)")
        objects.append(Tlv(tag, bytes(data[pos : pos + length])))
        pos += length
    return objects


def parse_one(data: bytes, expected_tag: int) -> bytes:
    """Parse exactly one TLV with *expected_tag* (padding allowed) and return its value."""
    objects = parse(data)
    if len(objects) != 1:
        raise TlvError(f"expected one TLV with tag {expected_tag:02X}, found {len(objects)}")
    if objects[0].tag != expected_tag:
        raise TlvError(f"expected tag {expected_tag:02X}, found {objects[0].tag:02X}")
    return objects[0].value


def find(objects: list[Tlv], tag: int, *, recursive: bool = True) -> Tlv | None:
    """First object with *tag*, searching constructed objects depth-first if *recursive*."""
    for obj in objects:
        if obj.tag == tag:
            return obj
        if recursive and obj.constructed:
            found = find(obj.children(), tag)
            if found is not None:
                return found
    return None


def encode(tag: int, value: bytes) -> bytes:
    """Encode one TLV (used by the virtual card and tests)."""
    tag_bytes = tag.to_bytes((tag.bit_length() + 7) // 8 or 1, "big")
    n = len(value)
    if n < 0x80:
        length = bytes([n])
    elif n <= 0xFF:
        length = bytes([0x81, n])
    elif n <= 0xFFFF:
        length = bytes([0x82]) + n.to_bytes(2, "big")
    else:
        raise ValueError("value too long for a card TLV")
    return tag_bytes + length + value


def _read_tag(data: bytes, pos: int) -> tuple[int, int]:
    start = pos
    first = data[pos]
    pos += 1
    if first & 0x1F == 0x1F:
        while True:
            if pos >= len(data):
                raise TlvError(f"tag starting at offset {start} is truncated")
            byte = data[pos]
            pos += 1
            if pos - start > _MAX_TAG_BYTES:
                raise TlvError(f"tag starting at offset {start} is longer than {_MAX_TAG_BYTES}")
            if not byte & 0x80:
                break
    return int.from_bytes(data[start:pos], "big"), pos


def _read_length(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data):
        raise TlvError(f"length missing at offset {pos}")
    first = data[pos]
    pos += 1
    if first < 0x80:
        return first, pos
    count = first & 0x7F
    if count == 0:
        raise TlvError("indefinite length (0x80) is not allowed in card data")
    if count > _MAX_LENGTH_BYTES:
        raise TlvError(f"length field of {count} bytes is not plausible")
    if pos + count > len(data):
        raise TlvError(f"length field at offset {pos - 1} is truncated")
    return int.from_bytes(data[pos : pos + count], "big"), pos + count
