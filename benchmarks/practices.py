"""Many practices on one server: do practices slow each other down beyond sharing the CPU?

Runs on PostgreSQL (DATABASE_URL when set, a scratch database; otherwise a throwaway durable
server) against `steadfast serve` on 127.0.0.1. It builds PRACTICES practices (the rush
practice of benchmarks/rush.py, smaller), then books through the FHIR API for SECONDS twice,
with the same server and the same number of clients (PRACTICES) both times:
- alone: all the clients act for one practice's receptionists; that practice has the whole
  machine, so one practice's rate on a 1/PRACTICES share of it is single_rate = total / PRACTICES;
- together: one client for each practice, all at once; aggregate_rate is their total.
ratio = aggregate_rate / (PRACTICES * single_rate). Anything the practices share (a row, a lock,
an audit chain) shows as a ratio below 1; with nothing shared it stays near 1. Every client
books its own distinct free slots (no races), each booking must answer 201. Last line:
`practices: n=20 aggregate_rate=N/s single_rate=N/s ratio=R`.
"""

import argparse
import asyncio
import os
import sys
from contextlib import ExitStack
from pathlib import Path

import book
import rush
from harness import benchmark_env, settle, steadfast, stop_server

sys.path[:] = [p for p in sys.path if Path(p).resolve() != Path(__file__).resolve().parent]
sys.path.append(str(Path(__file__).resolve().parent))

PRACTICES = 20
SECONDS = 20
SLOTS_PER_CLIENT = 1200  # more than one client books in SECONDS


async def booking_run(base: str, clients: list[tuple[str, str, list[str]]]) -> tuple[int, float]:
    """(bookings, seconds): each client (token, patient, its slots) books until time is up."""

    def make(tally, ready, start, clock):
        for _ in clients:
            ready.release()
        return [
            book.fhir_client(base, token, patient, slots, start, clock, tally)
            for token, patient, slots in clients
        ]

    book.SECONDS = SECONDS
    tally, seconds = await book.run_path(make)
    if tally.errors:
        raise SystemExit(f"{len(tally.errors)} errors: {tally.errors[:3]}")
    return tally.won, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description="Twenty practices booking at once vs one.")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    with ExitStack() as stack:
        env = benchmark_env(stack)
        os.environ.update(env)
        print(f"practices: preparing {PRACTICES} practices on PostgreSQL", flush=True)
        steadfast(env, "migrate", "-v0")
        import django

        django.setup()
        from django_scopes import scopes_disabled

        from steadfast.accounts.models import User
        from steadfast.fhir.auth import make_token

        rush.PATIENTS, rush.SLOTS = 2 * PRACTICES, 10
        practices = []
        for n in range(PRACTICES):
            # The practice that also books alone needs slots for every client.
            rush.SQL_SLOTS = SLOTS_PER_CLIENT * (PRACTICES + 1 if n == 0 else 1)
            practices.append(rush.build_practice())
            rush.ensure_chain_head(practices[-1].id)
        settle(env)
        with scopes_disabled():
            users = {u.pk: u for u in User.objects.filter(role="receptionist")}

        def client(practice, k: int, slots: list[str]) -> tuple[str, str, list[str]]:
            user = users[practice.receptionist_ids[k % len(practice.receptionist_ids)]]
            return make_token(user), practice.patient_ids[k], slots

        alone = practices[0]
        shared = alone.sql_slot_ids[: SLOTS_PER_CLIENT * PRACTICES]
        alone_clients = [client(alone, k, shared[k::PRACTICES]) for k in range(PRACTICES)]
        own = alone.sql_slot_ids[SLOTS_PER_CLIENT * PRACTICES :]
        together_clients = [client(alone, 0, own)] + [
            client(p, 0, p.sql_slot_ids) for p in practices[1:]
        ]

        log = Path(env["STEADFAST_VAR_DIR"]) / "serve.log"
        proc, base = rush.start_server(args.workers, args.threads, log)
        try:
            asyncio.run(rush.wait_until_answering(base, proc))
            print(
                f"practices: {PRACTICES} clients x {SECONDS} s, {args.workers} workers x"
                f" {args.threads} threads; load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
            booked, seconds = asyncio.run(booking_run(base, alone_clients))
            single_rate = booked / seconds / PRACTICES
            print(f"  one practice, {PRACTICES} clients: {booked / seconds:.0f}/s", flush=True)
            booked, seconds = asyncio.run(booking_run(base, together_clients))
            aggregate_rate = booked / seconds
            print(
                f"  {PRACTICES} practices, a client each: {aggregate_rate:.0f}/s;"
                f" load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
        finally:
            stop_server(proc)

    print(
        f"practices: n={PRACTICES} aggregate_rate={aggregate_rate:.0f}/s"
        f" single_rate={single_rate:.1f}/s ratio={aggregate_rate / (PRACTICES * single_rate):.2f}"
    )


if __name__ == "__main__":
    main()
