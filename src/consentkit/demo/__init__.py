"""``consentkit demo``: a realistic week of four services, played against a fresh installation.

Synthetic people only. The scenes (:mod:`consentkit.demo.scenes`) are data plus small
functions that call the public :class:`~consentkit.ConsentKit` API, one session per staff
member; the player (:func:`play`) runs them in order on one demo clock, writes the
artefacts and an index page, and moves the finished folder into place.
"""

from __future__ import annotations

from consentkit.demo.player import DEFAULT_OUT, DemoResult, play

__all__ = ["DEFAULT_OUT", "DemoResult", "play"]
