"""Pseudonymisation and redaction: national-identifier checksums and normalisers, keyed
pseudonyms, deterministic tokens and the offline free-text detector."""
