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
at once. A table has ``2^k × k`` values, so leaves with more path features than fit :data:`TABLE_BUDGET` (none of
the shipped ranker's, whose widest leaf has 11) are computed per row from the same formula instead: the polynomial
of the row's mask, and each feature's term by dividing its factor out (as LightGBM's own "unwinding" does). Values
agree with LightGBM's to rounding (``tests/matching/test_tree_shap.py``). A model with splits this does not
reproduce (categorical, linear trees, several trees per iteration) is left to LightGBM (:func:`tables_for` returns
None).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import factorial
from typing import Any

import lightgbm
import numpy as np
from scipy import sparse

TABLE_BUDGET = 4_000_000  # float64 table values (32 MB) for one model; the shipped ranker needs 707,862
WIDEST_TABLE = 12  # a leaf with more path features is computed per row even within the budget
K_ZERO = 1e-35  # LightGBM's kZeroThreshold: |x| below it is zero for a split with missing type "Zero"


@dataclass(frozen=True)
class _Wide:
    """Leaves with the same number ``k`` of path features, computed per row: their values, zero fractions, pairs."""

    value: np.ndarray  # (n,)
    zero: np.ndarray  # (n, k)
    pairs: np.ndarray  # (n, k): each path feature's (leaf, feature) pair

    def shap(self, agrees: np.ndarray) -> np.ndarray:
        """``φ`` of these leaves' pairs for rows whose agreement per pair is ``agrees`` (pairs × rows): (n, k, rows)."""
        n, k = self.zero.shape
        inside = agrees[self.pairs]  # n × k × rows
        zero = self.zero[:, :, None]
        outside = np.where(inside, 1.0, zero).prod(axis=1)  # n × rows: Π_{j∉A} z_j
        taken = inside * zero  # z_j where the row agrees with feature j, else 0
        symmetric = np.zeros((k + 1, n, inside.shape[2]))  # e_t of the zero fractions of the row's mask, t first
        symmetric[0] = 1.0
        for j in range(k):
            symmetric[1:] += taken[:, j] * symmetric[:-1]
        size = inside.sum(axis=1)  # n × rows: |A|
        weight = _weights(k)
        # each feature's factor divided out: e_t(z_{A\{i}}) = e_t(z_A) − z_i e_{t−1}(z_{A\{i}}), valid where i ∈ A
        without = np.empty((k + 1, n, k, inside.shape[2]))
        without[0] = 1.0
        for t in range(1, k + 1):
            without[t] = symmetric[t][:, None, :] - zero * without[t - 1]
        kept = _summed(without, size[:, None, :] - 1, weight)  # n × k × rows: G(A \ {i})
        whole = _summed(symmetric, size, weight)[:, None, :]  # G(A)
        value = self.value[:, None, None]
        return np.where(inside, value * (1.0 - zero) * kept, -value * whole) * outside[:, None, :]


@dataclass(frozen=True)
class ShapTables:
    """A model's splits, per-leaf tables and wide leaves, and the maps from a row's split decisions to SHAP values."""

    split_feature: np.ndarray  # per split (int)
    threshold: np.ndarray  # per split (float64)
    missing: np.ndarray  # per split: 0 none, 1 zero, 2 NaN (LightGBM's missing types)
    default_left: np.ndarray  # per split (bool)
    goes_left: sparse.csr_matrix  # pairs × splits: 1 where the (leaf, feature) pair's path goes left at that split
    goes_right: sparse.csr_matrix  # pairs × splits: 1 where it goes right
    bit: sparse.csr_matrix  # tabulated leaves × pairs: 2^(the pair's slot in its leaf's mask)
    tabulated: np.ndarray  # the pairs of tabulated leaves
    pair_leaf: np.ndarray  # per tabulated pair: its leaf (numbered among the tabulated)
    pair_slot: np.ndarray  # per tabulated pair: its position among its leaf's features
    leaf_offset: np.ndarray  # per tabulated leaf: where its table starts in ``values``
    leaf_width: np.ndarray  # per tabulated leaf: k, the table's row length
    values: np.ndarray  # every tabulated leaf's table, 2^k × k, row-major by mask
    wide: tuple[_Wide, ...]  # the other leaves, by k
    to_features: sparse.csr_matrix  # features × pairs: 1 for the pair's feature

    def contributions(self, features: np.ndarray) -> np.ndarray:
        """Per row and feature, its SHAP value summed over the trees: shape ``(rows, features)``."""
        x = np.asarray(features, np.float64)[:, self.split_feature]  # rows × splits
        nan = np.isnan(x)
        x = np.where(nan & (self.missing != 2), 0.0, x)  # LightGBM reads NaN as 0 unless the split knows NaN
        default = ((self.missing == 1) & (np.abs(x) <= K_ZERO)) | ((self.missing == 2) & nan)
        left = np.where(default, self.default_left, x <= self.threshold).T.astype(np.float64)  # splits × rows
        agrees = (self.goes_left @ (1.0 - left) + self.goes_right @ left) == 0  # pairs × rows: o_j
        masks = np.rint(self.bit @ agrees.astype(np.float64)).astype(np.int64)  # tabulated leaves × rows: A as bits
        at = (self.leaf_offset + masks.T * self.leaf_width)[:, self.pair_leaf] + self.pair_slot  # rows × pairs
        if not self.wide:  # every pair tabulated, in order
            return (self.to_features @ self.values[at].T).T
        phi = np.empty(agrees.shape)
        phi[self.tabulated] = self.values[at].T
        for group in self.wide:
            phi[group.pairs.ravel()] = group.shap(agrees).reshape(-1, agrees.shape[1])
        return (self.to_features @ phi).T


def tables_for(booster: lightgbm.Booster, budget: int = TABLE_BUDGET) -> ShapTables | None:
    """The tables of ``booster`` within ``budget`` values; None when it has a split they cannot reproduce."""
    dumped = booster.dump_model()
    if dumped.get("num_tree_per_iteration", 1) != 1 or dumped.get("average_output"):
        return None
    leaves: list[tuple[float, dict[int, list[tuple[int, bool]]], dict[int, float]]] = []
    splits: list[dict[str, Any]] = []
    for tree in dumped["tree_info"]:
        if not _walk(tree["tree_structure"], [], leaves, splits):
            return None
    widths = np.array([len(path) for _, path, _ in leaves], np.int64)
    size = (2**widths) * widths
    widest = max((k for k in range(WIDEST_TABLE + 1) if size[widths <= k].sum() <= budget), default=0)
    return _assemble(leaves, splits, widths, widest, booster.num_feature())


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
    widest: int,
    n_features: int,
) -> ShapTables:
    in_table = widths <= widest
    sizes = np.where(in_table, (2**widths) * widths, 0)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    values = np.empty(int(sizes.sum()), np.float64)
    left_rows, right_rows, pair_feature = [], [], []
    tabulated, pair_leaf, pair_slot, leaf_width = [], [], [], []
    wide: dict[int, tuple[list[float], list[np.ndarray], list[list[int]]]] = {}
    for leaf, (value, by_feature, zero) in enumerate(leaves):
        features = sorted(by_feature)
        pairs = list(range(len(pair_feature), len(pair_feature) + len(features)))
        for pair, feature in zip(pairs, features, strict=True):
            pair_feature.append(feature)
            for split, went_left in by_feature[feature]:
                (left_rows if went_left else right_rows).append((split, pair))
        fractions = np.array([zero[feature] for feature in features], np.float64)
        if in_table[leaf]:
            tabulated += pairs
            pair_leaf += [len(leaf_width)] * len(pairs)
            leaf_width.append(len(features))
            pair_slot += range(len(pairs))
            values[offsets[leaf] : offsets[leaf] + sizes[leaf]] = leaf_table(value, fractions).ravel()
        else:
            group = wide.setdefault(len(features), ([], [], []))
            group[0].append(value)
            group[1].append(fractions)
            group[2].append(pairs)
    n_pairs, n_splits = len(pair_feature), len(splits)
    leaf_of = np.array(pair_leaf, np.int64)

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
        bit=sparse.csr_matrix(
            (2.0 ** np.array(pair_slot, np.int64), (leaf_of, np.array(tabulated, np.int64))),
            shape=(int(in_table.sum()), n_pairs),
        ),
        tabulated=np.array(tabulated, np.int64),
        pair_leaf=leaf_of,
        pair_slot=np.array(pair_slot, np.int64),
        leaf_offset=offsets[in_table],
        leaf_width=widths[in_table],
        values=values,
        wide=tuple(
            _Wide(np.array(value), np.array(zero), np.array(pairs, np.int64))
            for _, (value, zero, pairs) in sorted(wide.items())
        ),
        to_features=sparse.csr_matrix(
            (np.ones(n_pairs), (np.array(pair_feature, np.int64), np.arange(n_pairs))), shape=(n_features, n_pairs)
        ),
    )


def _weights(k: int) -> np.ndarray:
    """Shapley's ``w(s) = s!(k−s−1)!/k!`` for ``s`` in 0..k−1."""
    return np.array([factorial(s) * factorial(k - s - 1) / factorial(k) for s in range(k)])


def _summed(symmetric: np.ndarray, size: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``G(B) = Σ_t w(|B| − t) e_t(z_B)``, with ``symmetric[t]`` the ``e_t`` and ``size`` the ``|B|``."""
    k = len(weight)
    padded = np.concatenate([np.zeros(len(symmetric)), weight, np.zeros(len(symmetric))])  # w outside 0..k−1 is 0
    found = np.zeros(np.broadcast_shapes(size.shape, symmetric.shape[1:]))
    for t, terms in enumerate(symmetric):
        found += padded[np.clip(size - t, -len(symmetric), k) + len(symmetric)] * terms
    return found


def leaf_table(value: float, zero: np.ndarray) -> np.ndarray:
    """``φ`` of one leaf for every mask ``A`` of its ``k`` path features: shape ``(2^k, k)``, row ``A`` (bit ``i``:
    the row agrees with the path's splits on feature ``i``)."""
    k = len(zero)
    masks = np.arange(2**k)
    inside = (masks[:, None] >> np.arange(k)) & 1  # 2^k × k
    symmetric = np.zeros((k + 1, 2**k))  # e_t of the zero fractions of each mask, t first
    symmetric[0, 0] = 1.0
    for bit in range(k):
        low, high = 2**bit, 2 ** (bit + 1)
        symmetric[:, low:high] = symmetric[:, :low]
        symmetric[1:, low:high] += symmetric[:-1, :low] * zero[bit]
    summed = _summed(symmetric, inside.sum(axis=1), _weights(k))  # G of every mask
    outside = np.where(inside == 1, 1.0, zero).prod(axis=1)  # Π_{j∉A} z_j
    table = np.empty((2**k, k))
    for i in range(k):
        without = masks & ~(1 << i)
        table[:, i] = np.where(
            inside[:, i] == 1, value * (1.0 - zero[i]) * outside * summed[without], -value * outside * summed[masks]
        )
    return table
