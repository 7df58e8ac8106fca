"""Throughput of field encryption and blind indexes on this machine.

Run: .venv/bin/python bench/crypto_bench.py [seconds-per-measurement]

A "record" is what reading or writing one person costs the service: unwrap the
person's DEK from the key ring, then encrypt and decrypt six identity fields. The
record is made up; no real person's data is used.
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

from app.security.blind_index import PERSONS, BlindIndexer
from app.security.crypto import FieldContext, create_data_key, open_data_key
from app.security.keyring import generate_keyring

RECORD = {
    "full_name": "Nguyễn Thị Mai Phương",
    "other_names": "Mai; Phương Nguyễn",
    "date_of_birth": "2003-07-19",
    "national_id": "038303012345",
    "phone": "+84912345678",
    "address": "Thôn 3, xã Quế Phong, tỉnh Nghệ An",
}


def measure(label: str, unit: str, seconds: float, run: Callable[[], object]) -> None:
    """Runs `run` repeatedly for about `seconds` and prints calls per second."""
    for _ in range(200):  # warm caches and the allocator
        run()
    count, started = 0, time.perf_counter()
    deadline = started + seconds
    while True:
        for _ in range(100):
            run()
        count += 100
        now = time.perf_counter()
        if now >= deadline:
            break
    rate = count / (now - started)
    print(f"{label:<52} {rate:>12,.0f} {unit}/s  ({1e6 / rate:8.2f} µs each)")


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    with tempfile.TemporaryDirectory() as workdir:
        provider = generate_keyring(Path(workdir) / "keyring.json", dev=True)
        person = uuid.uuid4()
        data_key, wrapped = create_data_key(provider, person)
        contexts = {name: FieldContext(PERSONS, name, person, person) for name in RECORD}
        stored = {name: data_key.encrypt(value, contexts[name]) for name, value in RECORD.items()}

        def write_record() -> None:
            key = open_data_key(provider, data_key.key_id, person, wrapped)
            for name, value in RECORD.items():
                key.encrypt(value, contexts[name])

        def read_record() -> None:
            key = open_data_key(provider, data_key.key_id, person, wrapped)
            for name, ciphertext in stored.items():
                key.decrypt_str(ciphertext, contexts[name])

        def round_trip_record() -> None:
            key = open_data_key(provider, data_key.key_id, person, wrapped)
            for name, value in RECORD.items():
                key.decrypt_str(key.encrypt(value, contexts[name]), contexts[name])

        indexer = BlindIndexer(provider.index_root_key())
        birth = date.fromisoformat(RECORD["date_of_birth"])

        print(f"vcm crypto benchmark, {seconds:g} s per line, one thread")
        measure(
            "DEK unwrap (key ring, AES-256-GCM)",
            "keys",
            seconds,
            lambda: open_data_key(provider, data_key.key_id, person, wrapped),
        )
        measure("record write: unwrap + encrypt 6 fields", "records", seconds, write_record)
        measure("record read: unwrap + decrypt 6 fields", "records", seconds, read_record)
        measure("record round trip: unwrap + 6 x (enc+dec)", "records", seconds, round_trip_record)
        measure(
            "blind index national_id",
            "indexes",
            seconds,
            lambda: indexer.compute(PERSONS, "national_id", RECORD["national_id"]),
        )
        measure(
            "blind index phone",
            "indexes",
            seconds,
            lambda: indexer.compute(PERSONS, "phone", "0912 345 678"),
        )
        measure(
            "blind index name_dob (Vietnamese folding)",
            "indexes",
            seconds,
            lambda: indexer.compute(PERSONS, "name_dob", RECORD["full_name"], birth),
        )
        measure(
            "blind indexes for one person (all three)",
            "persons",
            seconds,
            lambda: indexer.compute_available(PERSONS, {**RECORD, "date_of_birth": birth}),
        )


if __name__ == "__main__":
    main()
