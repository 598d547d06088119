"""What a failing serial port raises, for the serial drivers' ``except`` clauses.

pyserial raises :class:`serial.SerialException` (an OSError) for most failures, but a device
that vanished (USB unplugged) makes ``reset_input_buffer()`` and timeout changes fail inside
``termios`` with :class:`termios.error`, which is *not* an OSError. A driver that catches only
the first two lets the third kill its I/O thread.
"""

from __future__ import annotations

import termios

import serial

PORT_FAILURES: tuple[type[BaseException], ...] = (serial.SerialException, OSError, termios.error)
