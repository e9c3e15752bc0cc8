"""Disclosure decisions: ``decide(request, subject, consents, pack)`` is pure and returns a
:class:`~consentkit.disclosure.model.Decision` with reasons, basis and obligations."""
