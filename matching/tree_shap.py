"""Exact SHAP values of a LightGBM model from tables made once per model (path-dependent TreeSHAP).

Every shown candidate's explanation starts from the ranker's SHAP values. LightGBM's ``pred_contrib`` walks every
tree's paths per row (≈ 0.2 ms a row on the shipped model: 50 shown rows took ≈ 10 ms, half a search at 400,000
clients), while the values of a leaf depend on a row only through *which* of the leaf's path features the row agrees
with. So they can be tabulated when the ranker loads, and a row costs a comparison per split and a lookup per leaf
(the idea of Fast TreeSHAP v2, Yang 2021).

For a leaf with value ``v`` and the distinct features ``U`` (``k = |U|``) split on along its path, feature ``j`` has
a *zero fraction* ``z_j`` (the product, over the path's splits on ``j``, of the taken child's training count over
its parent's: where a row goes when ``j`` is unknown) and a *one fraction* ``o_j(x)`` (1 when ``x`` goes the path's
way at every split on ``j``). Path-dependent TreeSHAP (Lundberg et al. 2020, what LightGBM computes) gives
``E[f_leaf | x_S] = v Π_{j∈S∩U} o_j Π_{j∈U\\S} z_j``; features outside ``U`` are dummies, so with ``A`` the features
of ``U`` that ``x`` agrees with and ``w(s) = s!(k−s−1)!/k!``:

* ``i ∈ A``: ``φ_i = v (1 − z_i) Π_{j∈U\\A} z_j Σ_{T⊆A\\{i}} w(|A|−1−|T|) Π_{j∈T} z_j``;
* ``i ∉ A``: ``φ_i = −v Π_{j∈U\\A} z_j Σ_{T⊆A} w(|A|−|T|) Π_{j∈T} z_j``.

The sums over ``T`` are elementary symmetric polynomials of the ``z`` of a mask, made for all ``2^k`` masks of a leaf
at once. Values agree with LightGBM's to rounding (``tests/matching/test_tree_shap.py``). A model whose tables would
take more than :data:`TABLE_BUDGET` values, or that has splits these tables do not reproduce (categorical, linear
trees), is left to LightGBM (:func:`tables_for` returns None).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import factorial
from typing import Any

import lightgbm
import numpy as np
from scipy import sparse

TABLE_BUDGET = 8_000_000  # float64 values (64 MB) for all leaves together; the shipped ranker needs ≈ 0.7 M
K_ZERO = 1e-35  # LightGBM's kZeroThreshold: |x| below it is zero for a split with missing type "Zero"


@dataclass(frozen=True)
class ShapTables:
    """A model's splits and per-leaf tables, and the maps from a row's split decisions to SHAP values per feature."""

    split_feature: np.ndarray  # per split (int)
    threshold: np.ndarray  # per split (float64)
    missing: np.ndarray  # per split: 0 none, 1 zero, 2 NaN (LightGBM's missing types)
    default_left: np.ndarray  # per split (bool)
    goes_left: sparse.csr_matrix  # pairs × splits: 1 where the pair's path goes left at that split
    goes_right: sparse.csr_matrix  # pairs × splits: 1 where it goes right
    bit: sparse.csr_matrix  # leaves × pairs: 2^(the pair's slot in its leaf's mask)
    pair_leaf: np.ndarray  # per (leaf, feature) pair: its leaf
    pair_slot: np.ndarray  # per pair: its position among its leaf's features
    leaf_offset: np.ndarray  # per leaf: where its table starts in ``values``
    leaf_width: np.ndarray  # per leaf: k, the table's row length
    values: np.ndarray  # every leaf's table, 2^k × k, row-major by mask
    to_features: sparse.csr_matrix  # features × pairs: 1 for the pair's feature
    features: int

    def contributions(self, features: np.ndarray) -> np.ndarray:
        """Per row and feature, its SHAP value summed over the trees: shape ``(rows, features)``."""
        x = np.asarray(features, np.float64)[:, self.split_feature]  # rows × splits
        nan = np.isnan(x)
        x = np.where(nan & (self.missing != 2), 0.0, x)  # LightGBM reads NaN as 0 unless the split knows NaN
        default = ((self.missing == 1) & (np.abs(x) <= K_ZERO)) | ((self.missing == 2) & nan)
        left = np.where(default, self.default_left, x <= self.threshold).T.astype(np.float64)  # splits × rows
        wrong = self.goes_left @ (1.0 - left) + self.goes_right @ left  # pairs × rows: splits against the path
        masks = np.rint(self.bit @ (wrong == 0).astype(np.float64)).astype(np.int64)  # leaves × rows: A as bits
        at = (self.leaf_offset + masks.T * self.leaf_width)[:, self.pair_leaf] + self.pair_slot  # rows × pairs
        return (self.to_features @ self.values[at].T).T


def tables_for(booster: lightgbm.Booster, budget: int = TABLE_BUDGET) -> ShapTables | None:
    """The tables of ``booster``; None when it has a split they cannot reproduce or they would exceed ``budget``."""
    dumped = booster.dump_model()
    if dumped.get("num_tree_per_iteration", 1) != 1 or dumped.get("average_output"):
        return None
    leaves: list[tuple[float, dict[int, list[tuple[int, bool]]], dict[int, float]]] = []
    splits: list[dict[str, Any]] = []
    for tree in dumped["tree_info"]:
        if not _walk(tree["tree_structure"], [], leaves, splits):
            return None
    widths = np.array([len(path) for _, path, _ in leaves], np.int64)
    if int(((2**widths) * widths).sum()) > budget:
        return None
    return _assemble(leaves, splits, widths, booster.num_feature())


def _walk(
    node: dict[str, Any],
    path: list[tuple[int, bool, float]],
    leaves: list[tuple[float, dict[int, list[tuple[int, bool]]], dict[int, float]]],
    splits: list[dict[str, Any]],
) -> bool:
    """Collect ``node``'s splits and leaves (path: split id, went left, child's share of the parent's count)."""
    if "split_feature" not in node:
        by_feature: dict[int, list[tuple[int, bool]]] = {}
        zero: dict[int, float] = {}
        for split, went_left, share in path:
            feature = splits[split]["feature"]
            by_feature.setdefault(feature, []).append((split, went_left))
            zero[feature] = zero.get(feature, 1.0) * share
        leaves.append((float(node["leaf_value"]), by_feature, zero))
        return True
    if node.get("decision_type") != "<=" or node.get("missing_type") not in ("None", "Zero", "NaN"):
        return False  # categorical split: not reproduced here
    split = len(splits)
    splits.append(
        {
            "feature": int(node["split_feature"]),
            "threshold": float(node["threshold"]),
            "missing": {"None": 0, "Zero": 1, "NaN": 2}[node["missing_type"]],
            "default_left": bool(node["default_left"]),
        }
    )
    count = float(node["internal_count"])
    for child, went_left in ((node["left_child"], True), (node["right_child"], False)):
        share = _count(child) / count
        if not _walk(child, [*path, (split, went_left, share)], leaves, splits):
            return False
    return True


def _count(node: dict[str, Any]) -> float:
    return float(node["leaf_count"] if "split_feature" not in node else node["internal_count"])


def _assemble(
    leaves: list[tuple[float, dict[int, list[tuple[int, bool]]], dict[int, float]]],
    splits: list[dict[str, Any]],
    widths: np.ndarray,
    n_features: int,
) -> ShapTables:
    offsets = np.concatenate([[0], np.cumsum((2**widths) * widths)[:-1]]).astype(np.int64)
    values = np.empty(int(((2**widths) * widths).sum()), np.float64)
    left_rows, right_rows, pair_leaf, pair_slot, pair_feature = [], [], [], [], []
    for leaf, (value, by_feature, zero) in enumerate(leaves):
        features = sorted(by_feature)
        for slot, feature in enumerate(features):
            pair = len(pair_leaf)
            pair_leaf.append(leaf)
            pair_slot.append(slot)
            pair_feature.append(feature)
            for split, went_left in by_feature[feature]:
                (left_rows if went_left else right_rows).append((split, pair))
        table = leaf_table(value, np.array([zero[feature] for feature in features], np.float64))
        values[offsets[leaf] : offsets[leaf] + table.size] = table.ravel()
    n_pairs, n_splits = len(pair_leaf), len(splits)
    leaf_of, slot_of = np.array(pair_leaf, np.int64), np.array(pair_slot, np.int64)

    def incidence(entries: list[tuple[int, int]]) -> sparse.csr_matrix:
        split, pair = (np.array(side, np.int64) for side in zip(*entries, strict=True)) if entries else ([], [])
        return sparse.csr_matrix((np.ones(len(split)), (pair, split)), shape=(n_pairs, n_splits))

    return ShapTables(
        split_feature=np.array([split["feature"] for split in splits], np.int64),
        threshold=np.array([split["threshold"] for split in splits], np.float64),
        missing=np.array([split["missing"] for split in splits], np.int64),
        default_left=np.array([split["default_left"] for split in splits], bool),
        goes_left=incidence(left_rows),
        goes_right=incidence(right_rows),
        bit=sparse.csr_matrix((2.0**slot_of, (leaf_of, np.arange(n_pairs))), shape=(len(leaves), n_pairs)),
        pair_leaf=leaf_of,
        pair_slot=slot_of,
        leaf_offset=offsets,
        leaf_width=widths,
        values=values,
        to_features=sparse.csr_matrix(
            (np.ones(n_pairs), (np.array(pair_feature, np.int64), np.arange(n_pairs))), shape=(n_features, n_pairs)
        ),
        features=n_features,
    )


def leaf_table(value: float, zero: np.ndarray) -> np.ndarray:
    """``φ`` of one leaf for every mask ``A`` of its ``k`` path features: shape ``(2^k, k)``, row ``A`` (bit ``i``:
    the row agrees with the path's splits on feature ``i``)."""
    k = len(zero)
    masks = np.arange(2**k)
    inside = (masks[:, None] >> np.arange(k)) & 1  # 2^k × k
    size = inside.sum(axis=1)
    symmetric = np.zeros((2**k, k + 1))  # e_t of the zero fractions of each mask
    symmetric[0, 0] = 1.0
    for bit in range(k):
        low, high = 2**bit, 2 ** (bit + 1)
        symmetric[low:high] = symmetric[:low]
        symmetric[low:high, 1:] += symmetric[:low, :-1] * zero[bit]
    weight = np.array([factorial(s) * factorial(k - s - 1) / factorial(k) for s in range(k)] + [0.0])
    # G[B] = Σ_t w(|B| − t) e_t(z_B), for every mask B of at most k − 1 features
    steps = size[:, None] - np.arange(k + 1)
    usable = steps >= 0
    summed = (np.where(usable, weight[np.where(usable, steps, k)], 0.0) * symmetric).sum(axis=1)
    outside = np.where(inside == 1, 1.0, zero).prod(axis=1)  # Π_{j∉A} z_j
    table = np.empty((2**k, k))
    for i in range(k):
        without = masks & ~(1 << i)
        table[:, i] = np.where(
            inside[:, i] == 1, value * (1.0 - zero[i]) * outside * summed[without], -value * outside * summed[masks]
        )
    return table
