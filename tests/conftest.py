import os

import pytest
from hypothesis import HealthCheck, settings

# dropin_helpers.same() is the drop-in tests' comparison: rewrite its asserts as in a test module
pytest.register_assert_rewrite("dropin_helpers")

settings.register_profile("ci", max_examples=150, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", max_examples=30, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(autouse=True)
def _reset_zarrfast_config():
    import zarrfast

    zarrfast.config.reset()
    yield
    zarrfast.config.reset()


@pytest.fixture(scope="session")
def cluster_client():
    """A dask.distributed client on a LocalCluster of 2 single-threaded process workers on 127.0.0.1 (shared by
    every test of a test process that asks for it)."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=None, worker_dashboard_address=None)
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()
