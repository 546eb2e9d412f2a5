"""The fault tests' private PostgreSQL cluster does what they rely on (tests/pg_cluster.py)."""

from __future__ import annotations

import psycopg
import pytest


def test_private_cluster_holds_the_partnerships_and_breaks_on_demand(private_pg):
    with psycopg.connect(private_pg.url(), autocommit=True) as conn:
        schemas = {row[0] for row in conn.execute("SELECT schema_name FROM tenants_partnership")}
        assert {"suffolk", "norfolk"} <= schemas
        assert conn.execute("SELECT count(*) FROM suffolk.accounts_user").fetchone()[0] >= 2

    with private_pg.read_only(), psycopg.connect(private_pg.url(), autocommit=True) as conn:
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("CREATE TABLE public.nope (id int)")
        assert conn.execute("SELECT 1").fetchone() == (1,)

    held = psycopg.connect(private_pg.url(), autocommit=True)
    assert private_pg.terminate_backends() >= 1
    with pytest.raises(psycopg.OperationalError):
        held.execute("SELECT 1")
    held.close()

    private_pg.stop()
    assert not private_pg.answers()
    private_pg.start()
    assert private_pg.answers()
