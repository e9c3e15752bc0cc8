"""The RFC 9162 Merkle tree of the audit log: hashing, a compact range, and proofs.

Pure functions over leaf hashes, with no I/O. The tree is the one of Certificate
Transparency (RFC 9162 §2.1, unchanged from RFC 6962): SHA-256, a leaf hashes as
``SHA-256(0x00 || entry)``, an interior node as ``SHA-256(0x01 || left || right)``, and a
tree of n > 1 leaves splits at k, the largest power of two smaller than n.

* :func:`root` recomputes a tree head from stored leaf hashes (the auditor's re-check).
* :class:`CompactRange` keeps only the O(log n) "peaks" (roots of the perfect subtrees
  the tree decomposes into) so the storage layer can extend the head inside each append
  transaction and persist it as :meth:`CompactRange.to_bytes`.
* :func:`inclusion_proof` / :func:`verify_inclusion` and :func:`consistency_proof` /
  :func:`verify_consistency` produce and check the proofs of RFC 9162 §2.1.3 and §2.1.4.

The verifiers are stricter than the RFC text, as the transparency-dev/merkle probe corpus
taught: every hash must be exactly 32 bytes, ``index < size``, the proof must have exactly
the length the sizes imply and be fully consumed, ``size1 <= size2``, and a consistency
proof from the empty tree to a non-empty one always fails. Two empty trees are consistent
only with an empty proof and both roots equal to :data:`EMPTY_ROOT`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from consentkit.errors import InvalidInputError

try:
    from consentkit.audit import _treehash
except ImportError:  # built without a C compiler or OpenSSL headers (or imported from a zip)
    #: Whether the optional C core (``audit/_treehash.c``) was built: then :data:`tree_levels`
    #: and the tree hashes of proofs use it, else hashlib (the same bytes, more slowly).
    C_CORE = False
else:
    C_CORE = True

__all__ = [
    "C_CORE",
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "python_levels",
    "root",
    "subtree_root",
    "tree_levels",
    "verify_consistency",
    "verify_inclusion",
]

#: Length in bytes of every hash in the tree (SHA-256).
HASH_SIZE = 32
#: The root of the empty tree: RFC 9162 §2.1.1 defines MTH({}) as SHA-256 of the empty string.
EMPTY_ROOT = hashlib.sha256(b"").digest()

# RFC 9162 §2.1.1: the 0x00/0x01 prefixes separate leaves from nodes, which is what gives
# second-preimage resistance (a node can never be passed off as a leaf).
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
# Copying a state that already absorbed the prefix is faster than concatenating bytes.
_NODE_STATE = hashlib.sha256(_NODE_PREFIX)
# Tree sizes are uint64 in RFC 9162 (and in checkpoints and the compact range encoding).
_MAX_SIZE = 2**64 - 1
_SIZE_BYTES = 8


def leaf_hash(entry: bytes) -> bytes:
    """The leaf hash of one log entry: ``SHA-256(0x00 || entry)``."""
    return hashlib.sha256(_LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: ``SHA-256(0x01 || left || right)``."""
    state = _NODE_STATE.copy()
    state.update(left)
    state.update(right)
    return state.digest()


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """The Merkle tree hash (RFC 9162 §2.1.1) of a list of leaf hashes."""
    _check_leaves(leaf_hashes, len(leaf_hashes))
    return _mth(leaf_hashes)


def subtree_root(leaf_hashes: Sequence[bytes], start: int, end: int) -> bytes:
    """The Merkle tree hash of ``leaf_hashes[start:end]``."""
    if not 0 <= start <= end <= len(leaf_hashes):
        raise InvalidInputError(f"subtree [{start}, {end}) is outside the {len(leaf_hashes)} leaves given")
    _check_leaves(leaf_hashes, end)
    return _mth(leaf_hashes[start:end])


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int, size: int) -> list[bytes]:
    """The audit path (RFC 9162 §2.1.3.1) of leaf ``index`` in the tree of the first ``size`` leaves."""
    _check_leaves(leaf_hashes, size)
    if not _is_size(index, size - 1):
        raise InvalidInputError(f"inclusion proof: leaf index {index} is not in a tree of size {size}")
    # PATH(m, D[n]) recurses into the half holding m and appends the other half's hash;
    # walking down iteratively collects those siblings top-down, so the list is reversed.
    # The siblings are disjoint subtrees, so the whole proof costs about n hashes.
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        middle = start + _split(end - start)
        if index < middle:
            path.append(_mth(leaf_hashes[middle:end]))
            end = middle
        else:
            path.append(_mth(leaf_hashes[start:middle]))
            start = middle
    path.reverse()
    return path


def consistency_proof(leaf_hashes: Sequence[bytes], size1: int, size2: int) -> list[bytes]:
    """The consistency proof (RFC 9162 §2.1.4.1) between the trees of ``size1`` and ``size2`` leaves."""
    _check_leaves(leaf_hashes, size2)
    if not _is_size(size1, size2):
        raise InvalidInputError(f"consistency proof: sizes {size1} and {size2} are not 0 <= size1 <= size2")
    if size1 == size2:
        return []
    if size1 == 0:
        # Verifiers reject proofs from the empty tree (see verify_consistency), so never make one.
        raise InvalidInputError("consistency proof: the older tree is empty; there is nothing to prove")
    # SUBPROOF(m, D[n], b), unrolled: descend towards the old tree's boundary, collecting
    # the sibling hashes top-down; b turns false once the old tree is no longer a prefix
    # subtree the verifier already knows, and then that subtree's own hash is included.
    proof: list[bytes] = []
    start, end, old, known = 0, size2, size1, True
    while old != end - start:
        k = _split(end - start)
        if old <= k:
            proof.append(_mth(leaf_hashes[start + k : end]))
            end = start + k
        else:
            proof.append(_mth(leaf_hashes[start : start + k]))
            start, old, known = start + k, old - k, False
    if not known:
        proof.append(_mth(leaf_hashes[start:end]))
    proof.reverse()
    return proof


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """Whether ``proof`` shows that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` with ``root``."""
    if not (_is_size(size, _MAX_SIZE) and _is_size(index, size - 1)) or not _all_hashes(leaf_hash, root, *proof):
        return False
    inner, border = _decompose(index, size)
    if len(proof) != inner + border:
        return False
    # RFC 9162 §2.1.3.2, step by step: fn is the node's index at the current level and sn
    # the last index at that level; the proof must bring sn to exactly 0.
    fn, sn, computed = index, size - 1, leaf_hash
    for sibling in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            computed = node_hash(sibling, computed)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            computed = node_hash(computed, sibling)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and computed == root


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> bool:
    """Whether ``proof`` shows that tree (``size2``, ``root2``) extends tree (``size1``, ``root1``)."""
    if not (_is_size(size2, _MAX_SIZE) and _is_size(size1, size2)) or not _all_hashes(root1, root2, *proof):
        return False
    if size1 == size2:
        # Same size: nothing to prove beyond equal roots; the empty tree has a fixed root.
        return not proof and root1 == root2 and (size1 > 0 or root1 == EMPTY_ROOT)
    if size1 == 0 or len(proof) != _consistency_length(size1, size2):
        # transparency-dev/merkle CHANGELOG: proofs from size1 = 0 to size2 != 0 must always
        # fail; otherwise an empty proof "proves" any tree extends an arbitrary root1.
        return False
    # RFC 9162 §2.1.4.2. When size1 is a power of two the old root is itself a node of the
    # new tree and the proof omits it, so it is put back in front.
    path = [root1, *proof] if size1 & (size1 - 1) == 0 else list(proof)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    old, new = path[0], path[0]
    for sibling in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            old, new = node_hash(sibling, old), node_hash(sibling, new)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            new = node_hash(new, sibling)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and old == root1 and new == root2


class CompactRange:
    """The right edge of a growing tree: its size and the roots of its perfect subtrees.

    A tree of n leaves is a sequence of perfect subtrees, one per set bit of n, largest
    first; their roots ("peaks") are all an append-only log needs to compute the next
    root. Appending merges equal-sized peaks like a binary counter carries, so an append
    costs one leaf check plus, on average, one node hash.
    """

    __slots__ = ("_peaks", "_size")

    def __init__(self) -> None:
        """An empty range (size 0, no peaks)."""
        self._size = 0
        self._peaks: list[bytes] = []

    @classmethod
    def from_peaks(cls, size: int, peaks: Sequence[bytes]) -> CompactRange:
        """Restore a range from its size and its peaks, largest subtree first."""
        if not _is_size(size, _MAX_SIZE):
            raise InvalidInputError("compact range: size must be an integer from 0 to 2**64 - 1")
        if len(peaks) != size.bit_count():
            raise InvalidInputError(
                f"compact range: a tree of size {size} has {size.bit_count()} peaks, not {len(peaks)}"
            )
        if not _all_hashes(*peaks):
            raise InvalidInputError(f"compact range: every peak must be a {HASH_SIZE}-byte hash")
        restored = cls()
        restored._size = size
        restored._peaks = [bytes(peak) for peak in peaks]
        return restored

    @classmethod
    def from_bytes(cls, data: bytes) -> CompactRange:
        """Restore a range from :meth:`to_bytes`: 8-byte big-endian size, then the peaks."""
        if len(data) < _SIZE_BYTES or (len(data) - _SIZE_BYTES) % HASH_SIZE:
            raise InvalidInputError("compact range: the stored bytes have the wrong length")
        # from_peaks' checks, minus those the length check above already settles: every
        # slice is HASH_SIZE bytes and an 8-byte size is within range. Every audit append
        # restores the head's range, so the per-peak re-checks and copies were measurable.
        size = int.from_bytes(data[:_SIZE_BYTES], "big")
        count = (len(data) - _SIZE_BYTES) // HASH_SIZE
        if count != size.bit_count():
            raise InvalidInputError(f"compact range: a tree of size {size} has {size.bit_count()} peaks, not {count}")
        data = bytes(data)
        restored = cls()
        restored._size = size
        restored._peaks = [data[i : i + HASH_SIZE] for i in range(_SIZE_BYTES, len(data), HASH_SIZE)]
        return restored

    def to_bytes(self) -> bytes:
        """The encoding for storage: 8-byte big-endian size followed by the peaks."""
        return self._size.to_bytes(_SIZE_BYTES, "big") + b"".join(self._peaks)

    @property
    def size(self) -> int:
        """The number of leaves appended so far."""
        return self._size

    @property
    def peaks(self) -> tuple[bytes, ...]:
        """The perfect-subtree roots, largest (leftmost) first."""
        return tuple(self._peaks)

    def append(self, leaf_hash: bytes) -> None:
        """Add one leaf hash to the right edge of the tree."""
        # The hot path of every audit append: test the common case (bytes) first.
        if not ((type(leaf_hash) is bytes and len(leaf_hash) == HASH_SIZE) or _all_hashes(leaf_hash)):
            raise InvalidInputError(f"compact range: a leaf hash must be {HASH_SIZE} bytes")
        if self._size == _MAX_SIZE:
            raise InvalidInputError("compact range: the tree is full (2**64 - 1 leaves)")
        # Each trailing 1 bit of the old size is a peak of the same height as the new
        # node: merge them, exactly like carrying in binary addition.
        carry, merged = self._size, bytes(leaf_hash)
        while carry & 1:
            merged = node_hash(self._peaks.pop(), merged)
            carry >>= 1
        self._peaks.append(merged)
        self._size += 1

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append several leaf hashes in order."""
        for each in leaf_hashes:
            self.append(each)

    def root(self) -> bytes:
        """The Merkle tree hash of everything appended so far."""
        if not self._peaks:
            return EMPTY_ROOT
        # Folding the peaks right to left rebuilds RFC 9162's split at the largest power of two.
        result = self._peaks[-1]
        for peak in reversed(self._peaks[:-1]):
            result = node_hash(peak, result)
        return result

    def copy(self) -> CompactRange:
        """An independent copy (appends to it do not change this range)."""
        return CompactRange.from_peaks(self._size, self._peaks)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CompactRange):
            return NotImplemented
        return self._size == other._size and self._peaks == other._peaks

    __hash__ = None  # type: ignore[assignment]  # mutable, so unhashable like list

    def __repr__(self) -> str:
        return f"CompactRange(size={self._size}, root={self.root().hex()})"


def python_levels(prefix: bytes, entries: list[bytes]) -> list[bytes]:
    """Every level of the perfect subtrees over the leaves ``SHA-256(prefix ‖ entry)``, each
    level as its 32-byte hashes concatenated: level ``h`` holds the roots of the complete
    runs of ``2**h`` leaves (an odd one out at a level is left for the peaks)."""
    leaf = hashlib.sha256(prefix)
    level: list[bytes] = []
    add = level.append
    for entry in entries:
        state = leaf.copy()
        state.update(entry)
        add(state.digest())
    levels = [b"".join(level)]
    while len(level) > 1:
        level = _parents(level)  # an odd one out is left
        levels.append(b"".join(level))
    return levels


def _c_levels(prefix: bytes, entries: list[bytes]) -> list[bytes]:
    """:func:`python_levels`, hashed by the C core (``audit._treehash``) a level per call."""
    level = _treehash.leaf_hashes(prefix, entries)
    levels = [level]
    while len(level) > HASH_SIZE:
        level = _treehash.node_hashes(level)
        levels.append(level)
    return levels


#: How the audit verification's fast path hashes a chunk of entries.
tree_levels = _c_levels if C_CORE else python_levels


def _mth(hashes: Sequence[bytes]) -> bytes:
    """MTH over already-checked leaf hashes, level by level (no recursion, no slicing per node)."""
    if not hashes:
        return EMPTY_ROOT
    # Pairing left to right and promoting an unpaired last node builds the same tree as
    # RFC 9162's split at the largest power of two below n: every left part is perfect.
    if C_CORE:  # a whole level per call
        joined = b"".join(hashes)
        while len(joined) > HASH_SIZE:
            odd = joined[-HASH_SIZE:] if len(joined) % (2 * HASH_SIZE) else b""
            joined = _treehash.node_hashes(joined) + odd
        return joined
    level = list(hashes)
    while len(level) > 1:
        level = _next_level(level)
    return level[0]


def _next_level(level: list[bytes]) -> list[bytes]:
    """Hash adjacent pairs; an odd last node moves up unchanged."""
    parents = _parents(level)
    if len(level) % 2:
        parents.append(level[-1])
    return parents


def _parents(level: list[bytes]) -> list[bytes]:
    """The hashes of adjacent pairs of ``level``; an odd last node has no parent here."""
    state = _NODE_STATE
    parents: list[bytes] = []
    add = parents.append
    pairs = iter(level)
    for left, right in zip(pairs, pairs, strict=False):
        node = state.copy()
        node.update(left)
        node.update(right)
        add(node.digest())
    return parents


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n >= 2): RFC 9162 §2.1.1's k."""
    return 1 << ((n - 1).bit_length() - 1)


def _decompose(index: int, size: int) -> tuple[int, int]:
    """Lengths of the two parts of an inclusion proof: below and on the tree's right border.

    The inner part climbs until the paths to ``index`` and to the last leaf meet; above
    that point each set bit of the remaining index is one left sibling on the border.
    """
    inner = (index ^ (size - 1)).bit_length()
    return inner, (index >> inner).bit_count()


def _consistency_length(size1: int, size2: int) -> int:
    """The exact number of hashes in a consistency proof from ``size1`` to ``size2`` (0 < size1 < size2)."""
    inner, border = _decompose(size1 - 1, size2)
    # The lowest `shift` levels lie inside the old tree's last perfect subtree, whose root
    # is sent once (or is the old root itself when size1 is a power of two).
    shift = (size1 & -size1).bit_length() - 1
    seed = 0 if size1 == 1 << shift else 1
    return seed + inner - shift + border


def _all_hashes(*values: object) -> bool:
    """Whether every value is a bytes-like object of exactly :data:`HASH_SIZE` bytes.

    Typed ``object`` on purpose: proofs arrive from outside, and a verifier must say
    False, not crash, whatever it is handed.
    """
    return all(isinstance(v, bytes | bytearray | memoryview) and len(v) == HASH_SIZE for v in values)


def _is_size(value: object, limit: int) -> bool:
    """Whether ``value`` is an int (not a bool) from 0 to ``limit``."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= limit


def _check_leaves(leaf_hashes: Sequence[bytes], size: int) -> None:
    """Refuse a tree size beyond the leaves given, or leaf hashes that are not 32 bytes."""
    if not _is_size(size, len(leaf_hashes)):
        raise InvalidInputError(f"tree size {size} is not between 0 and the {len(leaf_hashes)} leaves given")
    lengths = set(map(len, leaf_hashes[:size]))
    if lengths - {HASH_SIZE}:
        raise InvalidInputError(f"every leaf hash must be {HASH_SIZE} bytes (SHA-256), not an entry")
