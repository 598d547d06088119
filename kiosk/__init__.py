"""就近办 self-service kiosk.

Layers (imports point down only): ``screens`` → ``services`` → ``devices`` → ``domain``.
``kiosk.domain``, ``kiosk.devices`` and ``kiosk.services`` never import Kivy.
"""

__version__ = "0.1.0"
