"""Time limits enforced by the store (labelport.store.deadline), on SQLite and PostgreSQL: a statement past
the deadline is stopped or not sent, and a write is all or nothing: past the deadline, or once abandoned,
it is rolled back; a commit under way is never abandoned."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from labelport.errors import TimeLimitExceeded
from labelport.store import deadline, schema
from labelport.store.engine import Store


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> Iterator[Store]:
    opened = Store(database_url, tmp_path / "media")
    try:
        yield opened
    finally:
        opened.close()


def _slow_statement(store: Store) -> str:
    """A statement that runs for minutes unless stopped."""
    if store.dialect == "sqlite":
        return (
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
            "SELECT count(*) FROM (SELECT x FROM c LIMIT 100000000000)"
        )
    return "SELECT pg_sleep(600)"


def _keys(store: Store) -> set[str]:
    with store.read() as conn:
        return set(conn.execute(select(schema.meta.c.key)).scalars())


def test_a_running_statement_is_stopped_at_the_deadline(store):
    with deadline.limited(deadline.Deadline(0.2)), store.read() as conn, pytest.raises(TimeLimitExceeded) as raised:
        conn.execute(text(_slow_statement(store))).all()
    assert str(raised.value).startswith("This request ran past its time limit of 0.2 s and was stopped;")
    with store.read() as conn:  # the connection went back to the pool in a usable state
        assert conn.execute(text("SELECT 1")).scalar_one() == 1


def test_no_statement_is_sent_past_the_deadline(store):
    expired = deadline.Deadline(0)
    with deadline.limited(expired), pytest.raises(TimeLimitExceeded), store.read() as conn:
        conn.execute(text("SELECT 1"))


def test_a_write_past_its_deadline_is_rolled_back(store):
    before = _keys(store)
    limit = deadline.Deadline(3600)
    with deadline.limited(limit), pytest.raises(TimeLimitExceeded), store.write() as conn:
        conn.execute(schema.meta.insert().values(key="written-in-time", value="1"))
        assert limit.abandon()  # the owner gave up waiting: the commit is refused
    assert _keys(store) == before


def test_a_commit_under_way_is_not_abandoned(store):
    limit = deadline.Deadline(3600)
    with limit.committing():
        assert not limit.abandon()
    assert limit.abandon()
    with pytest.raises(TimeLimitExceeded), limit.committing():
        pass


def test_a_write_within_its_deadline_commits(store):
    with deadline.limited(deadline.Deadline(3600)), store.write() as conn:
        conn.execute(schema.meta.insert().values(key="in-time", value="1"))
    assert "in-time" in _keys(store)


def test_the_deadline_is_per_thread_of_work(store):
    with deadline.limited(deadline.Deadline(0)):
        assert deadline.current() is not None
    assert deadline.current() is None
    with store.read() as conn:  # no deadline: nothing is limited
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
