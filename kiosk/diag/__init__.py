"""Hardware diagnostics for `kiosk diag <device>`, one module per device.

Each module defines ``register(diag_subparsers)`` that adds its parser and sets ``func`` (taking
the parsed args, returning an exit code). Modules import drivers only inside their handlers, and
never import Kivy. :mod:`kiosk.commands.diag` discovers them.
"""
