"""RFC 6962 Merkle trees: the published test vectors, and every proof for small trees."""

from __future__ import annotations

import pytest

from ledger.merkle import (
    RootAccumulator,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

# The certificate-transparency reference implementation's leaves and roots for sizes 1..8.
INPUTS = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    bytes(range(0x60, 0x70)),
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
LEAVES = [leaf_hash(data) for data in INPUTS]
MANY = [leaf_hash(i.to_bytes(4, "big")) for i in range(21)]


def test_empty_tree_root_is_the_hash_of_nothing() -> None:
    assert root([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert RootAccumulator().root() == root([])


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_the_reference_vectors(size: int) -> None:
    assert root(LEAVES[:size]).hex() == ROOTS[size - 1]


def test_the_accumulator_gives_the_root_of_every_prefix() -> None:
    accumulator = RootAccumulator()
    for size, leaf in enumerate(MANY, start=1):
        accumulator.add(leaf)
        assert accumulator.root() == root(MANY[:size])
        assert accumulator.size == size


@pytest.mark.parametrize("size", range(1, len(MANY) + 1))
def test_every_inclusion_proof_verifies_and_a_wrong_leaf_or_index_does_not(size: int) -> None:
    leaves = MANY[:size]
    tree_root = root(leaves)
    for index in range(size):
        proof = inclusion_proof(index, leaves)
        assert verify_inclusion(index, size, leaves[index], proof, tree_root)
        assert not verify_inclusion(index, size, leaf_hash(b"forged"), proof, tree_root)
        if size > 1:
            assert not verify_inclusion((index + 1) % size, size, leaves[index], proof, tree_root)


@pytest.mark.parametrize("new_size", range(1, len(MANY) + 1))
def test_every_consistency_proof_verifies_and_a_rewritten_prefix_does_not(new_size: int) -> None:
    leaves = MANY[:new_size]
    new_root = root(leaves)
    for old_size in range(1, new_size + 1):
        proof = consistency_proof(old_size, leaves)
        old_root = root(leaves[:old_size])
        assert verify_consistency(old_size, new_size, old_root, new_root, proof)
        rewritten = [leaf_hash(b"rewritten"), *leaves[1:]]
        assert not verify_consistency(old_size, new_size, old_root, root(rewritten), proof)
