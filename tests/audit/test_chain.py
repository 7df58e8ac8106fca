"""The hash chain: sealing, verification, and the first bad seq for each tampering."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import random

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app import audit
from app.audit.chain import link, seal
from app.audit.checkpoints import (
    Checkpoint,
    export_lines,
    make_checkpoint,
    parse_lines,
    stored_checkpoints,
)
from app.audit.verify import VerifyReport, verify
from app.security.permissions import Role
from tests.audit.helpers import seal_now, tamper, write_events
from tests.conftest import World


async def _verify(app: FastAPI, **kwargs: object) -> VerifyReport:
    async with app.state.sessionmaker() as session:
        return await verify(session, app.state.keys, **kwargs)  # type: ignore[arg-type]


async def _seal_of(engine: AsyncEngine, seq: int) -> dict[str, object]:
    async with engine.connect() as conn:
        row = await conn.execute(
            text(
                "SELECT s.*, e.txid, e.id FROM audit_seals s JOIN audit_events e "
                "ON e.id = s.event_id WHERE s.chain_seq = :seq"
            ),
            {"seq": seq},
        )
        return dict(row.mappings().one())


@pytest.fixture
async def chain(app: FastAPI, clean_db: None) -> FastAPI:
    """Ten sealed events, seq 1..10."""
    await write_events(app, 10)
    assert await seal_now(app) == 10
    return app


async def test_sealed_chain_verifies(chain: FastAPI) -> None:
    report = await _verify(chain)
    assert (report.ok, report.checked, report.first_bad_seq) == (True, 10, None)
    assert report.head_hash is not None and len(report.head_hash) == 64


async def test_sealing_again_adds_nothing_and_continues_the_chain(chain: FastAPI) -> None:
    assert await seal_now(chain) == 0
    await write_events(chain, 3)
    assert await seal_now(chain) == 3
    report = await _verify(chain)
    assert (report.ok, report.checked) == (True, 13)


async def test_an_uncommitted_event_is_not_sealed_until_it_commits(chain: FastAPI) -> None:
    async with chain.state.sessionmaker() as pending:
        await audit.record(pending, action="test.pending", resource_type="test")
        await write_events(chain, 2)  # later transactions, committed first
        assert await seal_now(chain) == 0  # held back by the open transaction's id
        await pending.commit()
    assert await seal_now(chain) == 3
    assert (await _verify(chain)).checked == 13


async def test_a_rolled_back_event_leaves_no_gap(chain: FastAPI) -> None:
    async with chain.state.sessionmaker() as doomed:
        await audit.record(doomed, action="test.doomed", resource_type="test")
        await doomed.rollback()
    await write_events(chain, 1)
    assert await seal_now(chain) == 1
    report = await _verify(chain)
    assert (report.ok, report.checked) == (True, 11)


async def _rewrite_from(engine: AsyncEngine, start: int) -> None:
    """Recompute every hash from `start` on, as a careful attacker would."""
    async with engine.begin() as conn:
        await conn.execute(text("SET LOCAL session_replication_role = replica"))
        prev_row = await conn.execute(
            text("SELECT hash FROM audit_seals WHERE chain_seq = :s"), {"s": start - 1}
        )
        prev = prev_row.scalar_one() if start > 1 else bytes(32)
        rows = await conn.execute(
            text(
                "SELECT s.chain_seq, e.* FROM audit_seals s JOIN audit_events e "
                "ON e.id = s.event_id WHERE s.chain_seq >= :s ORDER BY s.chain_seq"
            ),
            {"s": start},
        )
        for row in [dict(r) for r in rows.mappings()]:
            digest = link(prev, row, row["chain_seq"])
            await conn.execute(
                text("UPDATE audit_seals SET prev_hash = :p, hash = :h WHERE chain_seq = :s"),
                {"p": prev, "h": digest, "s": row["chain_seq"]},
            )
            prev = digest


# The event sealed at :seq, edited or deleted behind the triggers' back.
EDIT_EVENT = (
    "UPDATE audit_events SET action = 'rewritten' "
    "WHERE id = (SELECT event_id FROM audit_seals WHERE chain_seq = :seq)"
)
DELETE_EVENT = (
    "DELETE FROM audit_events WHERE id = (SELECT event_id FROM audit_seals WHERE chain_seq = :seq)"
)


@pytest.mark.parametrize(
    ("kind", "statements", "first_bad", "reason"),
    [
        (
            "edited",
            [EDIT_EVENT],
            4,
            "hash_mismatch",
        ),
        (
            "event deleted",
            [DELETE_EVENT],
            4,
            "missing_event",
        ),
        (
            "event and seal deleted",
            [
                DELETE_EVENT,
                "DELETE FROM audit_seals WHERE chain_seq = 4",
            ],
            4,
            "sequence_gap",
        ),
        (
            "deleted and renumbered",
            [
                DELETE_EVENT,
                "DELETE FROM audit_seals WHERE chain_seq = 4",
                "UPDATE audit_seals SET chain_seq = chain_seq - 1 WHERE chain_seq > 4",
            ],
            4,
            "broken_link",
        ),
        (
            "reordered (two seals swapped)",
            [
                "UPDATE audit_seals SET chain_seq = 1000 WHERE chain_seq = 4",
                "UPDATE audit_seals SET chain_seq = 4 WHERE chain_seq = 5",
                "UPDATE audit_seals SET chain_seq = 5 WHERE chain_seq = 1000",
            ],
            4,
            "broken_link",
        ),
        (
            "reordered (events swapped under the seals)",
            [
                "UPDATE audit_seals SET event_id = -event_id WHERE chain_seq IN (4, 5)",
                "UPDATE audit_seals s SET event_id = o.event_id, event_time = o.event_time "
                "FROM audit_seals o WHERE s.chain_seq = 4 AND o.chain_seq = 5",
                "UPDATE audit_seals s SET event_id = -o.event_id, event_time = o.event_time "
                "FROM audit_seals o WHERE s.chain_seq = 5 AND o.chain_seq = 4",
                "UPDATE audit_seals SET event_id = -event_id WHERE chain_seq = 4",
            ],
            4,
            "hash_mismatch",
        ),
    ],
)
async def test_verifier_names_the_first_bad_seq(
    chain: FastAPI,
    engine: AsyncEngine,
    kind: str,
    statements: list[str],
    first_bad: int,
    reason: str,
) -> None:
    await tamper(engine, *statements, seq=4)
    report = await _verify(chain)
    assert (report.ok, report.first_bad_seq, report.reason) == (False, first_bad, reason), kind
    assert report.checked == first_bad - 1


async def test_inserted_event_with_a_forged_link(chain: FastAPI, engine: AsyncEngine) -> None:
    third = await _seal_of(engine, 3)
    await tamper(
        engine,
        "UPDATE audit_seals SET chain_seq = chain_seq + 1000 WHERE chain_seq >= 4",
        "UPDATE audit_seals SET chain_seq = chain_seq - 999 WHERE chain_seq >= 1000",
        "INSERT INTO audit_events (id, occurred_at, txid, actor_type, action, resource_type, "
        "outcome) OVERRIDING SYSTEM VALUE VALUES (500, now(), :txid, 'system', 'forged', "
        "'test', 'success')",
        txid=third["txid"],
    )
    async with engine.connect() as conn:
        forged = dict(
            (await conn.execute(text("SELECT * FROM audit_events WHERE id = 500"))).mappings().one()
        )
    digest = link(third["hash"], forged, 4)  # type: ignore[arg-type]
    await tamper(
        engine,
        "INSERT INTO audit_seals (chain_seq, event_id, event_time, event_txid, prev_hash, hash) "
        "VALUES (4, 500, :t, :txid, :p, :h)",
        t=forged["occurred_at"],
        txid=forged["txid"],
        p=third["hash"],
        h=digest,
    )
    report = await _verify(chain)
    # The forged link itself is sound; the next one no longer follows it.
    assert (report.ok, report.first_bad_seq, report.reason) == (False, 5, "broken_link")


async def test_inserted_event_without_a_seal(chain: FastAPI, engine: AsyncEngine) -> None:
    """Slipped in with an old position, below the sealer's watermark: never sealed."""
    third = await _seal_of(engine, 3)
    await tamper(
        engine,
        "INSERT INTO audit_events (id, occurred_at, txid, actor_type, action, resource_type, "
        "outcome) OVERRIDING SYSTEM VALUE VALUES (:id, now(), :txid, 'system', 'forged', "
        "'test', 'success')",
        id=third["id"] + 500,  # type: ignore[operator]
        txid=third["txid"],
    )
    assert await seal_now(chain) == 0
    report = await _verify(chain)
    assert (report.ok, report.first_bad_seq, report.reason) == (False, 4, "unsealed_event")


async def test_truncated_tail_after_a_checkpoint(chain: FastAPI, engine: AsyncEngine) -> None:
    await seal_now(chain, checkpoint=True)  # checkpoint at seq 10
    await tamper(
        engine,
        "DELETE FROM audit_events WHERE id IN (SELECT event_id FROM audit_seals "
        "WHERE chain_seq >= 8)",
        "DELETE FROM audit_seals WHERE chain_seq >= 8",
    )
    report = await _verify(chain)
    assert (report.ok, report.first_bad_seq, report.reason) == (False, 8, "truncated")
    report = await _verify(chain, from_checkpoint=True)
    assert (report.ok, report.first_bad_seq, report.reason) == (False, 8, "truncated")


async def test_consistent_rewrite_is_caught_by_checkpoints(app: FastAPI, clean_db: None) -> None:
    """Checkpoints at 3 and 10; event 6 edited and every hash from 6 on recomputed: the
    chain is self-consistent, but no longer ends where the checkpoint at 10 says."""
    await write_events(app, 10)
    async with app.state.sessionmaker() as session:
        await seal(session, limit=3)
        await make_checkpoint(session, app.state.keys)
        await seal(session)
        await make_checkpoint(session, app.state.keys)
        await session.commit()
    engine = app.state.engine
    await tamper(engine, EDIT_EVENT, seq=6)
    await _rewrite_from(engine, 6)
    report = await _verify(app)
    assert (report.ok, report.first_bad_seq, report.reason) == (False, 4, "checkpoint_mismatch")


async def test_outside_copy_of_checkpoints_catches_a_full_rewrite(
    chain: FastAPI, engine: AsyncEngine
) -> None:
    await seal_now(chain, checkpoint=True)
    async with chain.state.sessionmaker() as session:
        exported = export_lines(await stored_checkpoints(session), chain.state.keys)
    outside = parse_lines(exported)
    # The attacker edits an event, recomputes the whole chain and drops the checkpoints.
    await tamper(
        engine,
        EDIT_EVENT,
        "DELETE FROM audit_checkpoints",
        seq=2,
    )
    await _rewrite_from(engine, 1)
    assert (await _verify(chain)).ok
    report = await _verify(chain, external=outside)
    assert (report.ok, report.first_bad_seq, report.reason) == (False, 1, "checkpoint_mismatch")


async def test_forged_checkpoint_signature(chain: FastAPI, engine: AsyncEngine) -> None:
    head = await _seal_of(engine, 10)
    await tamper(
        engine,
        "INSERT INTO audit_checkpoints (chain_seq, head_hash, created_at, key_id, signature) "
        "VALUES (10, :h, now(), 'forged', :sig)",
        h=head["hash"],
        sig=hashlib.sha512(b"forged").digest(),
    )
    report = await _verify(chain)
    assert (report.ok, report.first_bad_seq, report.reason) == (False, 10, "bad_checkpoint")


async def test_verify_from_checkpoint_starts_there(chain: FastAPI, engine: AsyncEngine) -> None:
    await seal_now(chain, checkpoint=True)  # at 10
    await write_events(chain, 5)
    await seal_now(chain)
    quick = await _verify(chain, from_checkpoint=True)
    assert (quick.ok, quick.checked) == (True, 6)  # seq 10 (matched to the checkpoint) .. 15
    await tamper(engine, EDIT_EVENT, seq=12)
    quick = await _verify(chain, from_checkpoint=True)
    assert (quick.ok, quick.first_bad_seq) == (False, 12)


async def test_checkpoint_export_round_trips_and_signature_checks(chain: FastAPI) -> None:
    await seal_now(chain, checkpoint=True)
    async with chain.state.sessionmaker() as session:
        stored = await stored_checkpoints(session)
    (line,) = export_lines(stored, chain.state.keys)
    (parsed,) = parse_lines([line])
    assert parsed == stored[0]
    doc = json.loads(line)
    public = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(doc["public_key"] + "=="))
    public.verify(parsed.signature, parsed.payload())  # raises if it does not hold
    assert isinstance(parsed, Checkpoint) and parsed.chain_seq == 10
    assert doc["head_hash"] == (await _verify(chain)).head_hash


async def test_fifty_concurrent_writers_leave_a_chain_that_verifies(
    app: FastAPI, world: World, engine: AsyncEngine
) -> None:
    admin = await world.user(Role.AGENCY_ADMIN)
    worker = await world.user(Role.CASE_WORKER, admin.agency, login=False)
    client: httpx.AsyncClient = world.client
    stop = asyncio.Event()

    async def sealer() -> None:
        while not stop.is_set():
            await seal_now(app)
            await asyncio.sleep(0.005)

    async def writer(n: int) -> None:
        if n % 5 == 0:  # some writers roll back: their events must leave no trace
            async with app.state.sessionmaker() as session:
                await audit.record(session, action="test.rolled_back", resource_type="test")
                await asyncio.sleep(random.random() / 100)
                await session.rollback()
            return
        response = await client.get(f"/api/v1/users/{worker.id}", headers=admin.headers)
        assert response.status_code == 200

    sealing = asyncio.create_task(sealer())
    await asyncio.gather(*(writer(n) for n in range(50)))
    stop.set()
    await sealing
    await seal_now(app)
    report = await _verify(app)
    async with engine.connect() as conn:
        total = (await conn.execute(text("SELECT count(*) FROM audit_events"))).scalar_one()
        forks = (
            await conn.execute(text("SELECT count(*) - count(DISTINCT prev_hash) FROM audit_seals"))
        ).scalar_one()
    assert (report.ok, report.checked, forks) == (True, total, 0)
    assert total == 1 + 40  # the admin's login, forty reads
