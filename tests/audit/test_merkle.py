"""Vectors and edge cases for consentkit.audit.merkle.

The reference tree and the probe corpus come from transparency-dev/merkle (see
tests/vectors/README.md); every vendored probe must verify exactly when upstream says so.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from consentkit.audit.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    CompactRange,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    subtree_root,
    verify_consistency,
    verify_inclusion,
)
from consentkit.errors import InvalidInputError

VECTORS = Path(__file__).parent.parent / "vectors" / "merkle"


def _load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


REFERENCE = _load("rfc6962-reference-tree.json")
LEAVES = [bytes.fromhex(leaf) for leaf in REFERENCE["leaves_hex"]]
LEAF_HASHES = [leaf_hash(leaf) for leaf in LEAVES]
INCLUSION_PROBES = _load("transparency-dev-inclusion-probes.json")["probes"]
CONSISTENCY_PROBES = _load("transparency-dev-consistency-probes.json")["probes"]
SOME_HASH = hashlib.sha256(b"some other hash").digest()


def _hashes(items: list[str] | None) -> list[bytes]:
    return [base64.b64decode(item) for item in items or []]


# --- the RFC 6962 reference tree -------------------------------------------------------


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    assert bytes.fromhex(REFERENCE["empty_root"]) == EMPTY_ROOT == hashlib.sha256(b"").digest()
    assert root([]) == EMPTY_ROOT
    assert CompactRange().root() == EMPTY_ROOT


@pytest.mark.parametrize("size", range(1, 9))
def test_reference_roots(size: int) -> None:
    want = bytes.fromhex(REFERENCE["roots_hex"][str(size)])
    assert root(LEAF_HASHES[:size]) == want
    assert subtree_root(LEAF_HASHES, 0, size) == want


def test_eight_leaf_root_is_the_published_one() -> None:
    assert root(LEAF_HASHES).hex().startswith("5dc9da79")
    assert root(LEAF_HASHES).hex().endswith("4328")


@pytest.mark.parametrize("case", REFERENCE["inclusion_proofs"], ids=lambda c: f"{c['index']}-of-{c['size']}")
def test_reference_inclusion_proofs(case: dict[str, Any]) -> None:
    index, size = case["index"], case["size"]
    want = [bytes.fromhex(h) for h in case["proof_hex"]]
    assert inclusion_proof(LEAF_HASHES, index, size) == want
    tree_root = bytes.fromhex(REFERENCE["roots_hex"][str(size)])
    assert verify_inclusion(LEAF_HASHES[index], index, size, want, tree_root)


@pytest.mark.parametrize("case", REFERENCE["consistency_proofs"], ids=lambda c: f"{c['size1']}-to-{c['size2']}")
def test_reference_consistency_proofs(case: dict[str, Any]) -> None:
    size1, size2 = case["size1"], case["size2"]
    want = [bytes.fromhex(h) for h in case["proof_hex"]]
    assert consistency_proof(LEAF_HASHES, size1, size2) == want
    roots = REFERENCE["roots_hex"]
    assert verify_consistency(size1, size2, bytes.fromhex(roots[str(size1)]), bytes.fromhex(roots[str(size2)]), want)


@pytest.mark.parametrize("size", range(9))
def test_compact_range_encoding_is_pinned(size: int) -> None:
    want = bytes.fromhex(REFERENCE["compact_range_bytes_hex"]["by_size"][str(size)])
    compact = CompactRange()
    compact.extend(LEAF_HASHES[:size])
    assert compact.to_bytes() == want
    restored = CompactRange.from_bytes(want)
    assert restored == compact
    assert restored.root() == root(LEAF_HASHES[:size])


# --- the transparency-dev/merkle probe corpus --------------------------------------------


def test_the_vendored_corpus_is_complete() -> None:
    assert len(INCLUSION_PROBES) == 82
    assert len(CONSISTENCY_PROBES) == 84
    happy = [p for p in INCLUSION_PROBES + CONSISTENCY_PROBES if not p["probe"]["wantErr"]]
    assert len(happy) == 10
    assert all(p["probe"]["desc"] == "happy path" for p in happy)


@pytest.mark.parametrize("entry", INCLUSION_PROBES, ids=lambda e: e["file"].removeprefix("testdata/"))
def test_inclusion_probe(entry: dict[str, Any]) -> None:
    probe = entry["probe"]
    verified = verify_inclusion(
        base64.b64decode(probe["leafHash"]),
        probe["leafIdx"],
        probe["treeSize"],
        _hashes(probe["proof"]),
        base64.b64decode(probe["root"]),
    )
    assert verified is (not probe["wantErr"]), probe["desc"]


@pytest.mark.parametrize("entry", CONSISTENCY_PROBES, ids=lambda e: e["file"].removeprefix("testdata/"))
def test_consistency_probe(entry: dict[str, Any]) -> None:
    probe = entry["probe"]
    verified = verify_consistency(
        probe["size1"],
        probe["size2"],
        base64.b64decode(probe["root1"]),
        base64.b64decode(probe["root2"]),
        _hashes(probe["proof"]),
    )
    assert verified is (not probe["wantErr"]), probe["desc"]


@pytest.mark.parametrize("entry", [e for e in INCLUSION_PROBES if not e["probe"]["wantErr"]], ids=lambda e: e["file"])
def test_generator_reproduces_every_happy_inclusion_probe(entry: dict[str, Any]) -> None:
    probe = entry["probe"]
    assert inclusion_proof(LEAF_HASHES, probe["leafIdx"], probe["treeSize"]) == _hashes(probe["proof"])


@pytest.mark.parametrize("entry", [e for e in CONSISTENCY_PROBES if not e["probe"]["wantErr"]], ids=lambda e: e["file"])
def test_generator_reproduces_every_happy_consistency_probe(entry: dict[str, Any]) -> None:
    probe = entry["probe"]
    assert consistency_proof(LEAF_HASHES, probe["size1"], probe["size2"]) == _hashes(probe["proof"])


# --- verifier strictness (the checks the corpus taught) ----------------------------------


def test_single_entry_tree() -> None:
    # upstream TestVerifyInclusionSingleEntry: the root of a 1-leaf tree is the leaf hash.
    digest = leaf_hash(b"data")
    assert verify_inclusion(digest, 0, 1, [], digest)
    assert not verify_inclusion(b"", 0, 1, [], digest)
    assert not verify_inclusion(digest, 0, 1, [], b"")
    assert not verify_inclusion(b"", 0, 1, [], b"")


@pytest.mark.parametrize(
    ("index", "size"), [(0, 0), (1, 0), (2, 1), (1, 1), (-1, 1), (0, -1), (0, 2**64), (0.0, 1), (0, 1.0), (False, 1)]
)
def test_inclusion_rejects_impossible_positions(index: Any, size: Any) -> None:
    assert not verify_inclusion(SOME_HASH, index, size, [], EMPTY_ROOT)
    assert not verify_inclusion(SOME_HASH, index, size, [], SOME_HASH)


def test_inclusion_rejects_hashes_that_are_not_32_bytes() -> None:
    proof = inclusion_proof(LEAF_HASHES, 5, 8)
    tree_root = root(LEAF_HASHES)
    assert verify_inclusion(LEAF_HASHES[5], 5, 8, proof, tree_root)
    assert not verify_inclusion(LEAF_HASHES[5] + b"\x00", 5, 8, proof, tree_root)
    assert not verify_inclusion(LEAF_HASHES[5], 5, 8, proof, tree_root[:31])
    assert not verify_inclusion(LEAF_HASHES[5], 5, 8, [*proof[:2], proof[2] + b"x"], tree_root)
    assert not verify_inclusion(LEAF_HASHES[5], 5, 8, [*proof[:2], "not bytes"], tree_root)  # type: ignore[list-item]


def test_inclusion_accepts_bytes_like_hashes() -> None:
    # Hashes read back from a database driver may be memoryview or bytearray.
    proof: list[Any] = [bytearray(h) for h in inclusion_proof(LEAF_HASHES, 2, 5)]
    leaf: Any = memoryview(LEAF_HASHES[2])
    tree_root: Any = bytearray(root(LEAF_HASHES[:5]))
    assert verify_inclusion(leaf, 2, 5, proof, tree_root)


@pytest.mark.parametrize(
    ("size1", "size2", "root1", "root2", "proof", "verified"),
    [
        # upstream TestVerifyConsistency, with 32-byte stand-ins for its "don't care" roots.
        (0, 0, EMPTY_ROOT, SOME_HASH, [], False),
        (1, 1, LEAF_HASHES[0], SOME_HASH, [], False),
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [], True),
        (1, 1, SOME_HASH, SOME_HASH, [], True),
        (1, 0, SOME_HASH, EMPTY_ROOT, [], False),
        (2, 1, SOME_HASH, SOME_HASH, [], False),
        (1, 2, LEAF_HASHES[0], root(LEAF_HASHES[:2]), [], False),
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
        (1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
        (0, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
        # Deliberately stricter than upstream's old table, which accepted (0, 1) with an
        # empty proof: an empty old tree proves nothing (upstream CHANGELOG, later fixed).
        (0, 1, EMPTY_ROOT, LEAF_HASHES[0], [], False),
        (0, 8, EMPTY_ROOT, root(LEAF_HASHES), [], False),
        # Two empty trees are consistent only when both roots are the empty root.
        (0, 0, SOME_HASH, SOME_HASH, [], False),
        # Roots that are not 32 bytes never verify, even for equal sizes.
        (1, 1, b"don't care", b"don't care", [], False),
        (-1, 1, SOME_HASH, SOME_HASH, [], False),
        (1, 2**64, SOME_HASH, SOME_HASH, [SOME_HASH], False),
        (1.0, 1, SOME_HASH, SOME_HASH, [], False),
        (1, 1.0, SOME_HASH, SOME_HASH, [], False),
    ],
)
def test_consistency_edge_cases(
    size1: Any, size2: Any, root1: bytes, root2: bytes, proof: list[bytes], verified: bool
) -> None:
    assert verify_consistency(size1, size2, root1, root2, proof) is verified


def test_consistency_proof_must_be_fully_consumed() -> None:
    proof = consistency_proof(LEAF_HASHES, 3, 7)
    root3, root7 = root(LEAF_HASHES[:3]), root(LEAF_HASHES[:7])
    assert verify_consistency(3, 7, root3, root7, proof)
    assert not verify_consistency(3, 7, root3, root7, [*proof, SOME_HASH])
    assert not verify_consistency(3, 7, root3, root7, proof[:-1])
    assert not verify_consistency(3, 7, root3, root7, [SOME_HASH, *proof])


# --- second-preimage defence (pymerkle test_defense style) --------------------------------


def test_an_interior_node_cannot_pose_as_a_leaf() -> None:
    # Without the 0x00/0x01 prefixes, the entry left_hash || right_hash would hash to the
    # parent node, so a 1-leaf tree could claim the root of a 2-leaf tree.
    left, right = LEAF_HASHES[1], LEAF_HASHES[2]
    two_leaf_root = root([left, right])
    forged_leaf = leaf_hash(left + right)
    assert forged_leaf != two_leaf_root
    assert not verify_inclusion(forged_leaf, 0, 1, [], two_leaf_root)
    assert node_hash(left, right) == two_leaf_root
    assert hashlib.sha256(left + right).digest() != two_leaf_root


# --- generator input checks -----------------------------------------------------------


def test_generators_refuse_entries_instead_of_leaf_hashes() -> None:
    with pytest.raises(InvalidInputError, match="32 bytes"):
        root(LEAVES)
    with pytest.raises(InvalidInputError, match="32 bytes"):
        inclusion_proof(LEAVES, 0, 8)
    with pytest.raises(InvalidInputError, match="32 bytes"):
        consistency_proof(LEAVES, 1, 8)


@pytest.mark.parametrize(("index", "size"), [(8, 8), (-1, 8), (0, 0), (0, 9), (0, -1), (1.0, 8), (0, 8.0)])
def test_inclusion_proof_refuses_bad_positions(index: Any, size: Any) -> None:
    with pytest.raises(InvalidInputError):
        inclusion_proof(LEAF_HASHES, index, size)


@pytest.mark.parametrize(("size1", "size2"), [(5, 4), (0, 3), (-1, 3), (1, 9), (1.5, 3), (True, 3)])
def test_consistency_proof_refuses_bad_sizes(size1: Any, size2: Any) -> None:
    with pytest.raises(InvalidInputError):
        consistency_proof(LEAF_HASHES, size1, size2)


def test_trivial_consistency_proofs_are_empty() -> None:
    assert consistency_proof(LEAF_HASHES, 0, 0) == []
    assert consistency_proof(LEAF_HASHES, 5, 5) == []


def test_proofs_may_use_a_prefix_of_a_longer_log() -> None:
    assert inclusion_proof(LEAF_HASHES, 2, 5) == inclusion_proof(LEAF_HASHES[:5], 2, 5)
    assert consistency_proof(LEAF_HASHES, 2, 5) == consistency_proof(LEAF_HASHES[:5], 2, 5)


@pytest.mark.parametrize(("start", "end"), [(-1, 2), (3, 2), (0, 9)])
def test_subtree_root_bounds(start: int, end: int) -> None:
    with pytest.raises(InvalidInputError):
        subtree_root(LEAF_HASHES, start, end)


def test_subtree_root_of_a_middle_range() -> None:
    assert subtree_root(LEAF_HASHES, 4, 8) == root(LEAF_HASHES[4:8])
    assert subtree_root(LEAF_HASHES, 3, 3) == EMPTY_ROOT


# --- CompactRange ---------------------------------------------------------------------


def test_compact_range_keeps_one_peak_per_set_bit() -> None:
    compact = CompactRange()
    compact.extend(LEAF_HASHES[:7])
    assert compact.size == 7
    assert compact.peaks == (root(LEAF_HASHES[:4]), root(LEAF_HASHES[4:6]), LEAF_HASHES[6])
    assert CompactRange.from_peaks(7, compact.peaks) == compact


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00" * 7, bytes(8) + bytes(32), (1).to_bytes(8, "big"), (3).to_bytes(8, "big") + bytes(32)],
    ids=["empty", "short", "peak-for-size-0", "missing-peak", "too-few-peaks"],
)
def test_compact_range_refuses_corrupt_bytes(data: bytes) -> None:
    with pytest.raises(InvalidInputError, match="compact range"):
        CompactRange.from_bytes(data)


def test_compact_range_refuses_bad_peaks_and_leaves() -> None:
    with pytest.raises(InvalidInputError):
        CompactRange.from_peaks(-1, [])
    with pytest.raises(InvalidInputError):
        CompactRange.from_peaks(True, [SOME_HASH])
    with pytest.raises(InvalidInputError):
        CompactRange.from_peaks(1, [b"short"])
    with pytest.raises(InvalidInputError):
        CompactRange().append(b"an entry, not a leaf hash")


def test_compact_range_is_full_at_two_to_the_64() -> None:
    full = CompactRange.from_peaks(2**64 - 1, [SOME_HASH] * 64)
    assert len(full.to_bytes()) == 8 + 64 * HASH_SIZE
    with pytest.raises(InvalidInputError, match="full"):
        full.append(SOME_HASH)


def test_compact_range_copy_is_independent() -> None:
    compact = CompactRange()
    compact.extend(LEAF_HASHES[:3])
    twin = compact.copy()
    twin.append(LEAF_HASHES[3])
    assert compact.size == 3
    assert twin.root() == root(LEAF_HASHES[:4])
    assert compact != twin
    assert compact != "not a range"
    assert "size=3" in repr(compact)
    with pytest.raises(TypeError):
        hash(compact)


def test_proofs_over_a_larger_tree() -> None:
    # Not a timing test: a tree with several levels of unbalanced right edges.
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(10_007)]
    tree_root = root(leaves)
    compact = CompactRange()
    compact.extend(leaves)
    assert compact.root() == tree_root
    for index in (0, 4_095, 8_192, 10_006):
        assert verify_inclusion(leaves[index], index, len(leaves), inclusion_proof(leaves, index, 10_007), tree_root)
    for size1 in (1, 4_096, 8_191, 10_000):
        proof = consistency_proof(leaves, size1, len(leaves))
        assert verify_consistency(size1, len(leaves), root(leaves[:size1]), tree_root, proof)
