"""The tamper-evident audit trail: envelope encoding, hash chain, RFC 9162 Merkle tree,
signed checkpoints (C2SP), inclusion and consistency proofs, and verification."""
