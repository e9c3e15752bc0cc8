"""The optional C hashing core (``audit/_treehash.c``) computes exactly what hashlib computes.

Verification's fast path hashes through ``verify.tree_levels``: the C core when the build
compiled it, else ``verify.python_levels``. Both must give the same levels byte for byte,
and the core must refuse input it cannot hash rather than read past it.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consentkit.audit import merkle, verify

PREFIX = b"\x00ck-audit/1\nconsentkit.test/treehash\n"

needs_core = pytest.mark.skipif(not verify.C_CORE, reason="the C core was not built in this install")


@settings(max_examples=200, deadline=None)
@given(entries=st.lists(st.binary(max_size=300), max_size=70))
def test_python_levels_are_the_rfc9162_subtrees(entries: list[bytes]) -> None:
    levels = verify.python_levels(PREFIX, entries)
    leaves = [hashlib.sha256(PREFIX + entry).digest() for entry in entries]
    assert levels[0] == b"".join(leaves)
    for above, below in zip(levels[1:], levels, strict=False):
        pairs = [below[i:i + 64] for i in range(0, len(below) - 63, 64)]
        assert above == b"".join(hashlib.sha256(b"\x01" + pair).digest() for pair in pairs)
    assert len(levels[-1]) <= 32


@needs_core
@settings(max_examples=300, deadline=None)
@given(entries=st.lists(st.binary(max_size=300), max_size=70), prefix=st.binary(max_size=80))
def test_the_c_core_gives_the_same_levels_as_hashlib(entries: list[bytes], prefix: bytes) -> None:
    assert verify.tree_levels(prefix, entries) == verify.python_levels(prefix, entries)


@needs_core
def test_the_c_core_refuses_what_it_cannot_hash() -> None:
    from consentkit.audit._treehash import leaf_hashes, node_hashes  # only where it was built

    assert leaf_hashes(PREFIX, []) == b""
    assert node_hashes(b"") == b""
    assert node_hashes(b"\x07" * 96) == hashlib.sha256(b"\x01" + b"\x07" * 64).digest()  # the odd one is left
    with pytest.raises(TypeError, match="list of bytes"):
        leaf_hashes(PREFIX, (b"a", b"b"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="list of bytes"):
        leaf_hashes(PREFIX, [b"a", "b"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        leaf_hashes("prefix", [b"a"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="whole 32-byte hashes"):
        node_hashes(b"\x00" * 33)


@needs_core
@settings(max_examples=200, deadline=None)
@given(leaves=st.lists(st.binary(min_size=32, max_size=32), max_size=140), data=st.data())
def test_roots_and_proofs_are_the_same_with_and_without_the_core(leaves: list[bytes], data: st.DataObject) -> None:
    size = len(leaves)
    index = data.draw(st.integers(0, max(size - 1, 0)))
    old = data.draw(st.integers(1, max(size, 1)))

    def tree() -> tuple[bytes, list[bytes], list[bytes]]:
        return (merkle.root(leaves), merkle.inclusion_proof(leaves, index, size) if size else [],
                merkle.consistency_proof(leaves, old, size) if size else [])

    with_core = tree()
    merkle.C_CORE = False
    try:
        without = tree()
    finally:
        merkle.C_CORE = True
    assert with_core == without
    assert not size or merkle.verify_inclusion(leaves[index], index, size, with_core[1], with_core[0])
