//! The append-only log's Merkle tree, exactly as RFC 6962 §2.1 (and RFC 9162 §2.1)
//! defines it, over SHA-256:
//!
//! - the hash of the empty tree is `SHA-256()`;
//! - a leaf hash is `SHA-256(0x00 ‖ leaf)`;
//! - an interior node is `SHA-256(0x01 ‖ left ‖ right)`;
//! - a tree of `n > 1` leaves splits at `k`, the largest power of two smaller than `n`.
//!
//! Functions here take the leaf *hashes*, build audit paths and consistency proofs from
//! them, and verify both with the RFC 9162 algorithms; from all the leaves, building a
//! root or a proof is O(n) hashing.
//!
//! A log that grows for years does not read every leaf: it stores the tree's *perfect
//! subtrees* ([`Node`]: 2^level leaves aligned on a multiple of their size), at most
//! about two per leaf, written as each leaf is appended ([`completed_by_append`]). Any
//! root and any audit path is then a fold of O(log n) of them ([`cover`], [`fold`],
//! [`inclusion_plan`]), which is what the server reads to verify a certificate.

use sha2::{Digest, Sha256};

/// A SHA-256 hash: a leaf hash, a node or a root.
pub type Hash = [u8; 32];

/// The root of the empty tree, `SHA-256()` (the empty string).
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The RFC 6962 leaf hash `SHA-256(0x00 ‖ data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(data);
    hasher.finalize().into()
}

/// The RFC 6962 interior node hash `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x01]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The largest power of two smaller than `n` (`n ≥ 2`).
fn split(n: usize) -> usize {
    debug_assert!(n >= 2);
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// The Merkle tree hash `MTH(D[n])` of the leaves whose leaf hashes are `leaves`.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves {
        [] => empty_root(),
        [leaf] => *leaf,
        _ => {
            let k = split(leaves.len());
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// The audit path `PATH(index, D[n])` of RFC 6962 §2.1.1: the sibling hashes from the
/// leaf up to the root. `None` if `index` is not a leaf of the tree.
pub fn inclusion_proof(index: u64, leaves: &[Hash]) -> Option<Vec<Hash>> {
    let index = usize::try_from(index).ok().filter(|&i| i < leaves.len())?;
    let mut path = Vec::new();
    audit_path(index, leaves, &mut path);
    Some(path)
}

fn audit_path(index: usize, leaves: &[Hash], path: &mut Vec<Hash>) {
    if leaves.len() <= 1 {
        return;
    }
    let k = split(leaves.len());
    if index < k {
        audit_path(index, &leaves[..k], path);
        path.push(root(&leaves[k..]));
    } else {
        audit_path(index - k, &leaves[k..], path);
        path.push(root(&leaves[..k]));
    }
}

/// Checks an audit path with the algorithm of RFC 9162 §2.1.3.2: that the leaf with hash
/// `leaf` is at `index` in the tree of `tree_size` leaves whose root is `root`.
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    tree_size: u64,
    proof: &[Hash],
    root: &Hash,
) -> bool {
    if index >= tree_size {
        return false;
    }
    let (mut f_n, mut s_n) = (index, tree_size - 1);
    let mut r = *leaf;
    for p in proof {
        if s_n == 0 {
            return false;
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    s_n == 0 && r == *root
}

/// The consistency proof `PROOF(old_size, D[n])` of RFC 6962 §2.1.2, showing that the
/// tree of the first `old_size` leaves is a prefix of the tree of all `leaves`. Empty
/// when `old_size` is 0 or `n`; `None` if `old_size > n`.
pub fn consistency_proof(old_size: u64, leaves: &[Hash]) -> Option<Vec<Hash>> {
    let old_size = usize::try_from(old_size)
        .ok()
        .filter(|&m| m <= leaves.len())?;
    let mut proof = Vec::new();
    if old_size > 0 {
        subproof(old_size, leaves, true, &mut proof);
    }
    Some(proof)
}

fn subproof(m: usize, leaves: &[Hash], complete: bool, proof: &mut Vec<Hash>) {
    let n = leaves.len();
    if m == n {
        if !complete {
            proof.push(root(leaves));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof(m, &leaves[..k], complete, proof);
        proof.push(root(&leaves[k..]));
    } else {
        subproof(m - k, &leaves[k..], false, proof);
        proof.push(root(&leaves[..k]));
    }
}

/// Checks a consistency proof with the algorithm of RFC 9162 §2.1.4.2: that the tree of
/// `old_size` leaves with root `old_root` is a prefix of the tree of `new_size` leaves
/// with root `new_root`.
///
/// Equal sizes need an empty proof and equal roots; an old size of 0 needs an empty proof
/// and the empty tree's root.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> bool {
    if old_size > new_size {
        return false;
    }
    if old_size == new_size {
        return proof.is_empty() && old_root == new_root;
    }
    if old_size == 0 {
        return proof.is_empty() && *old_root == empty_root();
    }
    let Some((first, rest)) = proof.split_first() else {
        return false;
    };
    // When the old tree is a complete subtree its root is the proof's implicit first node.
    let (start, rest) = if old_size.is_power_of_two() {
        (old_root, proof)
    } else {
        (first, rest)
    };
    let (mut f_n, mut s_n) = (old_size - 1, new_size - 1);
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let (mut f_r, mut s_r) = (*start, *start);
    for c in rest {
        if s_n == 0 {
            return false;
        }
        if f_n & 1 == 1 || f_n == s_n {
            f_r = node_hash(c, &f_r);
            s_r = node_hash(c, &s_r);
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            s_r = node_hash(&s_r, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    s_n == 0 && f_r == *old_root && s_r == *new_root
}

/// A perfect subtree of the log: the `2^level` leaves from `index · 2^level` on. Level 0
/// is a leaf hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Node {
    /// Its height: it covers `2^level` leaves.
    pub level: u32,
    /// Its position among the nodes of its level.
    pub index: u64,
}

impl Node {
    /// The first leaf it covers.
    pub fn start(self) -> u64 {
        self.index << self.level
    }
}

/// The perfect subtrees that cover the leaves `start..end`, left to right, largest
/// first: the decomposition RFC 6962's `MTH` makes of that range when `start` is a
/// multiple of the largest power of two below `end - start` (every range an audit path
/// or a root needs is). Empty for an empty range.
pub fn cover(start: u64, end: u64) -> Vec<Node> {
    let mut nodes = Vec::new();
    let mut at = start;
    while at < end {
        // The largest aligned power of two that fits.
        let mut level = if at == 0 { 63 } else { at.trailing_zeros() };
        while level > 0 && (1u64 << level) > end - at {
            level -= 1;
        }
        nodes.push(Node {
            level,
            index: at >> level,
        });
        at += 1 << level;
    }
    nodes
}

/// The Merkle tree hash of a range from the hashes of its [`cover`], in order:
/// `node_hash(h0, node_hash(h1, … h_last))`. The empty tree's root for no hash.
pub fn fold(hashes: &[Hash]) -> Hash {
    let Some((last, rest)) = hashes.split_last() else {
        return empty_root();
    };
    rest.iter().rev().fold(*last, |acc, h| node_hash(h, &acc))
}

/// What the audit path of leaf `index` in the tree of `size` leaves is made of: one
/// group of nodes per element of [`inclusion_proof`], in the same order, each element
/// being the [`fold`] of its group's hashes. At most one group has more than one node,
/// so the plan names O(log n) nodes. `None` if `index` is not a leaf of the tree.
pub fn inclusion_plan(index: u64, size: u64) -> Option<Vec<Vec<Node>>> {
    if index >= size {
        return None;
    }
    let (mut start, mut end) = (0, size);
    let mut groups = Vec::new();
    while end - start > 1 {
        let k = 1u64 << (63 - (end - start - 1).leading_zeros());
        if index < start + k {
            groups.push(cover(start + k, end));
            end = start + k;
        } else {
            groups.push(cover(start, start + k));
            start += k;
        }
    }
    groups.reverse();
    Some(groups)
}

/// The nodes that appending leaf number `size` (0-based: the log had `size` leaves)
/// completes, lowest first, each with its left and right children: the new leaf's
/// level-0 node is the right child of the first.
pub fn completed_by_append(size: u64) -> Vec<(Node, Node, Node)> {
    let mut out = Vec::new();
    let mut level = 0;
    let mut index = size;
    while index & 1 == 1 {
        let parent = Node {
            level: level + 1,
            index: index >> 1,
        };
        out.push((
            parent,
            Node {
                level,
                index: index - 1,
            },
            Node { level, index },
        ));
        level += 1;
        index >>= 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(text: &str) -> Hash {
        let bytes: Vec<u8> = (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect();
        bytes.try_into().unwrap()
    }

    /// The RFC 6962 reference leaves used by the Certificate Transparency test vectors.
    fn reference_leaves() -> Vec<Hash> {
        let data: [&[u8]; 8] = [
            b"",
            b"\x00",
            b"\x10",
            b"\x20\x21",
            b"\x30\x31",
            b"\x40\x41\x42\x43",
            b"\x50\x51\x52\x53\x54\x55\x56\x57",
            b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
        ];
        data.iter().map(|d| leaf_hash(d)).collect()
    }

    /// Roots of the reference tree for sizes 0..=8.
    const REFERENCE_ROOTS: [&str; 9] = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    #[test]
    fn known_answers() {
        assert_eq!(empty_root(), hex(REFERENCE_ROOTS[0]));
        assert_eq!(root(&[]), hex(REFERENCE_ROOTS[0]));
        let leaves = reference_leaves();
        for (n, expected) in REFERENCE_ROOTS.iter().enumerate() {
            assert_eq!(root(&leaves[..n]), hex(expected), "size {n}");
        }
        assert_eq!(
            inclusion_proof(0, &leaves).unwrap(),
            [
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ]
            .map(hex)
        );
        assert_eq!(
            inclusion_proof(5, &leaves).unwrap(),
            [
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ]
            .map(hex)
        );
        assert_eq!(
            consistency_proof(2, &leaves).unwrap(),
            [
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ]
            .map(hex)
        );
        assert_eq!(
            consistency_proof(6, &leaves).unwrap(),
            [
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ]
            .map(hex)
        );
    }

    /// RFC 6962 §2.1.3's worked example, by node name: the 7-leaf tree
    /// `hash = (k = (g = a,b ; h = c,d) ; l = (i = e,f ; j = d6))`.
    #[test]
    fn rfc6962_worked_example() {
        let d: Vec<Hash> = (0u8..7).map(|i| leaf_hash(&[i])).collect();
        let (a, b, c, dd, e, f, j) = (d[0], d[1], d[2], d[3], d[4], d[5], d[6]);
        let (g, h, i) = (node_hash(&a, &b), node_hash(&c, &dd), node_hash(&e, &f));
        let (k, l) = (node_hash(&g, &h), node_hash(&i, &j));
        assert_eq!(root(&d), node_hash(&k, &l));
        assert_eq!(inclusion_proof(0, &d).unwrap(), [b, h, l]);
        assert_eq!(inclusion_proof(3, &d).unwrap(), [c, g, l]);
        assert_eq!(inclusion_proof(4, &d).unwrap(), [f, j, k]);
        assert_eq!(inclusion_proof(6, &d).unwrap(), [i, k]);
        assert_eq!(consistency_proof(3, &d).unwrap(), [c, dd, g, l]);
        assert_eq!(consistency_proof(4, &d).unwrap(), [l]);
        assert_eq!(consistency_proof(6, &d).unwrap(), [i, j, k]);
    }

    /// An independent model: the tree built level by level, a lone last node promoted
    /// unchanged, which RFC 6962's split yields too.
    fn levels(leaves: &[Hash]) -> Vec<Vec<Hash>> {
        let mut levels = vec![leaves.to_vec()];
        while levels.last().unwrap().len() > 1 {
            let next = levels
                .last()
                .unwrap()
                .chunks(2)
                .map(|pair| match pair {
                    [l, r] => node_hash(l, r),
                    [lone] => *lone,
                    _ => unreachable!(),
                })
                .collect();
            levels.push(next);
        }
        levels
    }

    fn naive_root(leaves: &[Hash]) -> Hash {
        if leaves.is_empty() {
            return empty_root();
        }
        levels(leaves).last().unwrap()[0]
    }

    fn naive_path(mut index: usize, leaves: &[Hash]) -> Vec<Hash> {
        let mut path = Vec::new();
        for level in levels(leaves).iter().filter(|l| l.len() > 1) {
            if let Some(sibling) = level.get(index ^ 1) {
                path.push(*sibling);
            }
            index >>= 1;
        }
        path
    }

    /// For each element of the audit path of leaf `index` in a tree of `size` leaves,
    /// whether it is the left sibling, from the level-by-level model.
    fn path_shape(mut index: usize, mut size: usize) -> Vec<bool> {
        let mut shape = Vec::new();
        while size > 1 {
            if index ^ 1 < size {
                shape.push(index & 1 == 1);
            }
            index >>= 1;
            size = size.div_ceil(2);
        }
        shape
    }

    fn sample_leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(format!("credential {i}").as_bytes()))
            .collect()
    }

    #[test]
    fn inclusion_matches_the_naive_model_and_tampering_fails() {
        let all = sample_leaves(20);
        for n in 1..=20 {
            let leaves = &all[..n];
            let tree_root = root(leaves);
            assert_eq!(tree_root, naive_root(leaves), "root of {n}");
            assert!(inclusion_proof(n as u64, leaves).is_none());
            for m in 0..n {
                let proof = inclusion_proof(m as u64, leaves).unwrap();
                assert_eq!(proof, naive_path(m, leaves), "path {m} of {n}");
                let (index, size) = (m as u64, n as u64);
                assert!(verify_inclusion(
                    &leaves[m], index, size, &proof, &tree_root
                ));

                // Another leaf, index, size or root.
                let other_leaf = leaf_hash(b"not in the log");
                assert!(!verify_inclusion(
                    &other_leaf,
                    index,
                    size,
                    &proof,
                    &tree_root
                ));
                for other in 0..n as u64 + 2 {
                    if other != index {
                        assert!(!verify_inclusion(
                            &leaves[m], other, size, &proof, &tree_root
                        ));
                    }
                }
                // Another size fails unless it gives the leaf the very same path shape
                // (then only a preimage of a proof element could make such a tree; the
                // signed checkpoint binds size and root together in any case).
                for other in 0..n as u64 + 40 {
                    let accepted = verify_inclusion(&leaves[m], index, other, &proof, &tree_root);
                    let same_shape =
                        other > index && path_shape(m, other as usize) == path_shape(m, n);
                    assert_eq!(accepted, same_shape, "size {other} for {m} of {n}");
                }
                let mut bad_root = tree_root;
                bad_root[31] ^= 1;
                assert!(!verify_inclusion(
                    &leaves[m], index, size, &proof, &bad_root
                ));

                // Every bit of every proof element, a dropped and an added element.
                for e in 0..proof.len() {
                    for bit in 0..256 {
                        let mut bad = proof.clone();
                        bad[e][bit / 8] ^= 1 << (bit % 8);
                        assert!(!verify_inclusion(&leaves[m], index, size, &bad, &tree_root));
                    }
                }
                if !proof.is_empty() {
                    let short = &proof[..proof.len() - 1];
                    assert!(!verify_inclusion(
                        &leaves[m], index, size, short, &tree_root
                    ));
                }
                let mut long = proof.clone();
                long.push([0; 32]);
                assert!(!verify_inclusion(
                    &leaves[m], index, size, &long, &tree_root
                ));

                // Changing any leaf of the log changes its root: the proof fails there.
                for changed in 0..n {
                    let mut tampered = leaves.to_vec();
                    tampered[changed][0] ^= 1;
                    let tampered_root = root(&tampered);
                    assert_ne!(tampered_root, tree_root);
                    assert!(!verify_inclusion(
                        &leaves[m],
                        index,
                        size,
                        &proof,
                        &tampered_root
                    ));
                }
            }
        }
    }

    #[test]
    fn consistency_proofs_verify_and_tampering_fails() {
        let all = sample_leaves(20);
        let roots: Vec<Hash> = (0..=20).map(|n| root(&all[..n])).collect();
        for n in 0..=20usize {
            assert!(consistency_proof(n as u64 + 1, &all[..n]).is_none());
            for m in 0..=n {
                let proof = consistency_proof(m as u64, &all[..n]).unwrap();
                let (old, new) = (m as u64, n as u64);
                assert!(
                    verify_consistency(old, new, &roots[m], &roots[n], &proof),
                    "{m} -> {n}"
                );
                if m == 0 || m == n {
                    assert!(proof.is_empty());
                }
                if m > 0 && m < n {
                    let mut other_old = roots[m];
                    other_old[0] ^= 1;
                    assert!(!verify_consistency(old, new, &other_old, &roots[n], &proof));
                    let mut other_new = roots[n];
                    other_new[0] ^= 1;
                    assert!(!verify_consistency(old, new, &roots[m], &other_new, &proof));
                    for e in 0..proof.len() {
                        let mut bad = proof.clone();
                        bad[e][5] ^= 0x20;
                        assert!(!verify_consistency(old, new, &roots[m], &roots[n], &bad));
                    }
                    assert!(!verify_consistency(
                        old,
                        new,
                        &roots[m],
                        &roots[n],
                        &proof[1..]
                    ));
                    let mut long = proof.clone();
                    long.push([0; 32]);
                    assert!(!verify_consistency(old, new, &roots[m], &roots[n], &long));
                    if n < 20 {
                        assert!(!verify_consistency(
                            old,
                            new + 1,
                            &roots[m],
                            &roots[n + 1],
                            &proof
                        ));
                    }
                    // A rewritten history: the old tree's last leaf changed in the new one.
                    let mut forked = all[..n].to_vec();
                    forked[m - 1][0] ^= 1;
                    let forked_proof = consistency_proof(old, &forked).unwrap();
                    assert!(!verify_consistency(
                        old,
                        new,
                        &roots[m],
                        &root(&forked),
                        &forked_proof
                    ));
                }
            }
        }
        assert!(!verify_consistency(5, 3, &roots[5], &roots[3], &[]));
        assert!(!verify_consistency(4, 4, &roots[4], &roots[4], &[[0; 32]]));
        assert!(!verify_consistency(0, 8, &roots[1], &roots[8], &[]));
    }

    /// Every perfect subtree of a tree of `leaves`, as a store keeps them.
    fn perfect_nodes(leaves: &[Hash]) -> std::collections::HashMap<Node, Hash> {
        let mut nodes = std::collections::HashMap::new();
        for (i, leaf) in leaves.iter().enumerate() {
            nodes.insert(
                Node {
                    level: 0,
                    index: i as u64,
                },
                *leaf,
            );
            for (parent, left, right) in completed_by_append(i as u64) {
                let h = node_hash(&nodes[&left], &nodes[&right]);
                nodes.insert(parent, h);
            }
        }
        nodes
    }

    #[test]
    fn stored_subtrees_give_every_root_and_audit_path() {
        let leaves = sample_leaves(70);
        let nodes = perfect_nodes(&leaves);
        // About one stored interior node per leaf.
        assert_eq!(nodes.len(), 70 + 70 - 70u64.count_ones() as usize);
        for size in 0..=70u64 {
            let tree = &leaves[..size as usize];
            let hashes: Vec<Hash> = cover(0, size).iter().map(|n| nodes[n]).collect();
            assert_eq!(fold(&hashes), root(tree), "root of {size}");
            assert!(cover(0, size).len() <= 7);
            for index in 0..size {
                let plan = inclusion_plan(index, size).unwrap();
                let proof: Vec<Hash> = plan
                    .iter()
                    .map(|group| fold(&group.iter().map(|n| nodes[n]).collect::<Vec<_>>()))
                    .collect();
                assert_eq!(
                    Some(proof),
                    inclusion_proof(index, tree),
                    "{index} of {size}"
                );
                let named: usize = plan.iter().map(Vec::len).sum();
                assert!(named <= 2 * 7, "{index} of {size}: {named} nodes");
            }
            assert_eq!(inclusion_plan(size, size), None);
        }
    }

    #[test]
    fn a_large_log_names_few_nodes() {
        let size = 1_000_003;
        let plan = inclusion_plan(12_345, size).unwrap();
        assert_eq!(plan.len(), inclusion_proof_len(12_345, size));
        assert!(plan.iter().map(Vec::len).sum::<usize>() <= 40);
        assert!(cover(0, size).len() <= 20);
        // An append completes as many nodes as the trailing one bits of the old size.
        assert_eq!(completed_by_append(0b1011).len(), 2);
        assert_eq!(completed_by_append(0b1000).len(), 0);
    }

    /// The length of an RFC 6962 audit path, from its shape alone.
    fn inclusion_proof_len(index: u64, size: u64) -> usize {
        path_shape(index as usize, size as usize).len()
    }
}
