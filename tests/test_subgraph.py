"""gridsim.place.roads.subgraph: the induced subgraph, as scipy's own indexing gives it."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from gridsim.place.roads import subgraph


def _graph(n: int, links: int, seed: int) -> sparse.csr_matrix:
    rng = np.random.default_rng(seed)
    u, v = rng.integers(0, n, links), rng.integers(0, n, links)
    keep = u != v
    g = sparse.coo_matrix((rng.uniform(1.0, 60.0, int(keep.sum())), (u[keep], v[keep])),
                          shape=(n, n)).tocsr()
    g.sum_duplicates()
    return g


def test_subgraph_equals_scipy_indexing_with_and_without_scratch() -> None:
    g = _graph(500, 3000, seed=1)
    assert g.indptr.dtype == np.int32  # the case whose rows' bounds are cast per call
    scratch = np.full(g.shape[0], -1, dtype=np.int64)
    rng = np.random.default_rng(2)
    for size in (1, 7, 120, 500):
        nodes = np.sort(rng.choice(g.shape[0], size, replace=False))
        want = g[nodes][:, nodes].toarray()
        for scr in (None, scratch):
            got = subgraph(g, nodes, scr)
            assert got.shape == (size, size)
            np.testing.assert_array_equal(got.toarray(), want)
        assert (scratch == -1).all()  # handed back as it was given
