"""Consent records: append-only grant + events, state as a pure fold, validation against
the subject's policy pack, receipts."""
