"""Property tests for consentkit.audit.merkle over random tree sizes.

The oracle is a direct transcription of the recursive definitions of RFC 9162 §2.1.1
(MTH), §2.1.3.1 (PATH) and §2.1.4.1 (PROOF/SUBPROOF); the module under test computes the
same things iteratively.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from consentkit.audit.merkle import (
    CompactRange,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

MAX_SIZE = 300
PROPERTY_SETTINGS = settings(max_examples=60, deadline=None)


def _tree(size: int, salt: bytes) -> list[bytes]:
    """``size`` distinct leaf hashes (distinct leaves make every other position wrong)."""
    return [leaf_hash(salt + i.to_bytes(4, "big")) for i in range(size)]


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _mth(d: Sequence[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return d[0]
    k = _k(len(d))
    return node_hash(_mth(d[:k]), _mth(d[k:]))


def _path(m: int, d: Sequence[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*_path(m, d[:k]), _mth(d[k:])]
    return [*_path(m - k, d[k:]), _mth(d[:k])]


def _subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    if m == len(d):
        return [] if b else [_mth(d)]
    k = _k(len(d))
    if m <= k:
        return [*_subproof(m, d[:k], b), _mth(d[k:])]
    return [*_subproof(m - k, d[k:], False), _mth(d[:k])]


def _flip(data: bytes, bit: int) -> bytes:
    flipped = bytearray(data)
    flipped[bit // 8] ^= 1 << (bit % 8)
    return bytes(flipped)


sizes = st.integers(min_value=1, max_value=MAX_SIZE)
salts = st.binary(max_size=4)


@PROPERTY_SETTINGS
@given(size=st.integers(min_value=0, max_value=MAX_SIZE), salt=salts)
def test_root_matches_the_recursive_definition(size: int, salt: bytes) -> None:
    leaves = _tree(size, salt)
    assert root(leaves) == _mth(leaves)


@PROPERTY_SETTINGS
@given(size=sizes, salt=salts, data=st.data())
def test_inclusion_proofs_match_the_definition_and_verify(size: int, salt: bytes, data: st.DataObject) -> None:
    leaves = _tree(size, salt)
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = inclusion_proof(leaves, index, size)
    assert proof == _path(index, leaves)
    assert verify_inclusion(leaves[index], index, size, proof, root(leaves))


@PROPERTY_SETTINGS
@given(size=sizes, salt=salts, data=st.data())
def test_any_single_bit_flip_breaks_an_inclusion_proof(size: int, salt: bytes, data: st.DataObject) -> None:
    leaves = _tree(size, salt)
    index = data.draw(st.integers(0, size - 1), label="index")
    proof, tree_root = inclusion_proof(leaves, index, size), root(leaves)
    bit = data.draw(st.integers(0, 255), label="bit")
    assert not verify_inclusion(_flip(leaves[index], bit), index, size, proof, tree_root)
    assert not verify_inclusion(leaves[index], index, size, proof, _flip(tree_root, bit))
    if proof:
        at = data.draw(st.integers(0, len(proof) - 1), label="element")
        tampered = [*proof[:at], _flip(proof[at], bit), *proof[at + 1 :]]
        assert not verify_inclusion(leaves[index], index, size, tampered, tree_root)
        assert not verify_inclusion(leaves[index], index, size, proof[:-1], tree_root)
    assert not verify_inclusion(leaves[index], index, size, [*proof, tree_root], tree_root)


@PROPERTY_SETTINGS
@given(size=sizes, salt=salts, data=st.data())
def test_an_inclusion_proof_only_verifies_where_it_belongs(size: int, salt: bytes, data: st.DataObject) -> None:
    leaves = _tree(size, salt)
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = inclusion_proof(leaves, index, size)
    other_index = data.draw(st.integers(0, size - 1).filter(lambda i: i != index) if size > 1 else st.just(index))
    if other_index != index:
        # Distinct leaves: at any other index of the same tree the leaf is wrong.
        assert not verify_inclusion(leaves[index], other_index, size, proof, root(leaves))
    other_size = data.draw(st.integers(index + 1, MAX_SIZE + 1).filter(lambda s: s != size), label="size")
    bigger = _tree(other_size, salt)
    # Against the real head of another size the proof verifies only if it happens to be
    # that size's own proof too (the audit path of early leaves repeats across sizes).
    same_path = other_size <= size and proof == inclusion_proof(leaves, index, other_size)
    assert verify_inclusion(leaves[index], index, other_size, proof, root(bigger)) is same_path


@PROPERTY_SETTINGS
@given(size2=sizes, salt=salts, data=st.data())
def test_consistency_proofs_match_the_definition_and_verify(size2: int, salt: bytes, data: st.DataObject) -> None:
    leaves = _tree(size2, salt)
    size1 = data.draw(st.integers(1, size2), label="size1")
    proof = consistency_proof(leaves, size1, size2)
    assert proof == (_subproof(size1, leaves, True) if size1 < size2 else [])
    assert verify_consistency(size1, size2, root(leaves[:size1]), root(leaves), proof)


@PROPERTY_SETTINGS
@given(size2=st.integers(2, MAX_SIZE), salt=salts, data=st.data())
def test_any_mutation_breaks_a_consistency_proof(size2: int, salt: bytes, data: st.DataObject) -> None:
    leaves = _tree(size2, salt)
    size1 = data.draw(st.integers(1, size2 - 1), label="size1")
    proof = consistency_proof(leaves, size1, size2)
    root1, root2 = root(leaves[:size1]), root(leaves)
    bit = data.draw(st.integers(0, 255), label="bit")
    at = data.draw(st.integers(0, len(proof) - 1), label="element")
    tampered = [*proof[:at], _flip(proof[at], bit), *proof[at + 1 :]]
    assert not verify_consistency(size1, size2, root1, root2, tampered)
    assert not verify_consistency(size1, size2, _flip(root1, bit), root2, proof)
    assert not verify_consistency(size1, size2, root1, _flip(root2, bit), proof)
    assert not verify_consistency(size1, size2, root2, root1, proof)
    assert not verify_consistency(size1, size2, root1, root2, proof[:-1])
    assert not verify_consistency(size1, size2, root1, root2, [*proof, root2])
    assert not verify_consistency(size1, size2, root1, root2, [])
    assert not verify_consistency(0, size2, root1, root2, proof)
    assert not verify_consistency(size2, size1, root2, root1, proof)


@PROPERTY_SETTINGS
@given(size2=st.integers(2, MAX_SIZE), salt=salts, data=st.data())
def test_a_consistency_proof_only_verifies_for_its_sizes(size2: int, salt: bytes, data: st.DataObject) -> None:
    leaves = _tree(size2, salt)
    size1 = data.draw(st.integers(1, size2 - 1), label="size1")
    proof = consistency_proof(leaves, size1, size2)
    other2 = data.draw(st.integers(2, size2), label="other size2")
    other1 = data.draw(st.integers(1, other2 - 1), label="other size1")
    same = proof == consistency_proof(leaves, other1, other2)
    verified = verify_consistency(other1, other2, root(leaves[:other1]), root(leaves[:other2]), proof)
    assert verified is same
    if (other1, other2) == (size1, size2):
        assert verified


@PROPERTY_SETTINGS
@given(size=st.integers(0, MAX_SIZE), salt=salts)
def test_compact_range_root_equals_root_for_every_prefix(size: int, salt: bytes) -> None:
    leaves = _tree(size, salt)
    compact = CompactRange()
    for count, leaf in enumerate(leaves, 1):
        compact.append(leaf)
        assert compact.size == count
        assert compact.root() == root(leaves[:count])
        assert len(compact.peaks) == count.bit_count()


@PROPERTY_SETTINGS
@given(size=st.integers(0, MAX_SIZE), salt=salts, data=st.data())
def test_compact_range_survives_storage_midway(size: int, salt: bytes, data: st.DataObject) -> None:
    leaves = _tree(size, salt)
    cut = data.draw(st.integers(0, size), label="cut")
    first = CompactRange()
    first.extend(leaves[:cut])
    stored = first.to_bytes()
    restored = CompactRange.from_bytes(stored)
    assert restored == first
    assert CompactRange.from_peaks(first.size, first.peaks) == first
    assert restored.to_bytes() == stored
    restored.extend(leaves[cut:])
    assert restored.root() == root(leaves)
