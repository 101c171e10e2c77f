"""Capturing every change to a practice's data for the `_history` feed, inside the database.

A trigger on each tracked table notes the change in `fhir_change` in the writing transaction,
whatever wrote it: a service, a queryset `update()`, `bulk_create`, the demo loader, raw SQL.
Numbering is where change feeds usually lose data (a sequence taken at insert time is not commit
order), so:

- PostgreSQL: the row trigger leaves `seq` empty; a deferred constraint trigger numbers the row
  at COMMIT under the practice's `fhir_feedhead` row lock, held until the commit is visible. The
  next committer waits for that lock, so numbers follow commit order and the lock is held only
  for the instant of commit (never while a service works, so it cannot deadlock with the audit
  chain's head).
- SQLite: one writer at a time, so numbering at the write is numbering in commit order.

Triggers are (re)installed after every `migrate` (and test flush): SQLite rebuilds a table for
most schema changes and drops its triggers with it.
"""

from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.db import connection as default_connection
from django.db import transaction

DEFAULT_PRACTICE = "{row}.practice_id"


@dataclass(frozen=True)
class Tracked:
    """A table whose rows make up a FHIR resource: a change to a row is a change to it."""

    model: str
    resource_type: str
    practice: str = DEFAULT_PRACTICE  # SQL for the row's practice id; {row} is NEW or OLD
    resource_id: str = "{row}.id"

    @property
    def table(self) -> str:
        return apps.get_model(self.model)._meta.db_table

    def practice_sql(self, row: str) -> str:
        return self.practice.format(row=row)

    def resource_id_sql(self, row: str) -> str:
        return self.resource_id.format(row=row)


_VIA_APPOINTMENT = (
    "(SELECT practice_id FROM appointments_appointment WHERE id = {row}.appointment_id)"
)
_VIA_USER = "(SELECT practice_id FROM accounts_user WHERE id = {row}.user_id)"
_VIA_CONSULTATION = (
    "(SELECT practice_id FROM records_consultation WHERE id = {row}.consultation_id)"
)
_VIA_PROBLEM = "(SELECT practice_id FROM records_problem WHERE id = {row}.problem_id)"

TRACKED: tuple[Tracked, ...] = (
    Tracked("practices.Practice", "Organization", practice="{row}.id"),
    # Staff: clinicians appear as Practitioner; every change (a new authenticator too) also
    # tells a practice node to fetch the staff list again (see steadfast/continuity/node).
    Tracked("accounts.User", "Practitioner"),
    Tracked("otp_totp.TOTPDevice", "Practitioner", _VIA_USER, "{row}.user_id"),
    Tracked("patients.Patient", "Patient"),
    Tracked("appointments.Slot", "Slot"),
    Tracked("appointments.Appointment", "Appointment"),
    Tracked(
        "appointments.AppointmentEvent", "Appointment", _VIA_APPOINTMENT, "{row}.appointment_id"
    ),
    # A child row travels inside its parent's resource (steadfast/fhir/replica.py `Carried`):
    # its change is a change to the parent.
    Tracked("records.Consultation", "Encounter"),
    Tracked("records.ConsultationVersion", "Encounter", _VIA_CONSULTATION, "{row}.consultation_id"),
    Tracked("records.Problem", "Condition"),
    Tracked("records.Problem_consultations", "Condition", _VIA_PROBLEM, "{row}.problem_id"),
    Tracked("records.Allergy", "AllergyIntolerance"),
    Tracked("records.NoKnownAllergies", "AllergyIntolerance"),
    Tracked("records.Medication", "MedicationRequest"),
    Tracked("records.MedicationIssue", "MedicationRequest", resource_id="{row}.medication_id"),
    Tracked("records.Observation", "Observation"),
    Tracked("records.Immunisation", "Immunization"),
    Tracked("records.Document", "DocumentReference"),
    Tracked("records.PatientFlag", "Flag"),
)

# Tables of the practice's data the feed leaves out, each for its reason. A new table must be
# added to TRACKED or here (tests/fhir/test_history.py checks).
NOT_SERVED = frozenset(
    {
        # Rotas and opening hours only make slots, and slots are made centrally: a node copies
        # the slots themselves (their rota template is LOCAL_FIELDS in fhir/replica.py).
        "practices.OpeningHours",
        "practices.SessionTemplate",
        # The patient page's trail of corrected details (who changed a phone number): the
        # details themselves travel with the Patient; the trail is for the central record.
        "patients.DetailsChange",
        "records.Concept",  # reference data: every installation loads its own
        "records.CodeMapping",
        "downtime.ReceivedEntry",  # the central server's ledger of node downtime entries
        "downtime.NodeObject",
    }
)


def install(connection=default_connection) -> None:
    """Create (or re-create) the capture triggers, then note any rows that predate them.

    A practice node serves no history of its own (it applies the central server's), so it
    spends nothing on capture."""
    if settings.NODE_MODE:
        return
    existing = set(connection.introspection.table_names())
    tracked = [t for t in TRACKED if t.table in existing]
    if "fhir_change" not in existing:
        return
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_POSTGRES_FUNCTIONS)
            for t in tracked:
                cursor.execute(_postgres_trigger(t))
        else:
            for t in tracked:
                for sql in _sqlite_triggers(t):
                    cursor.execute(sql)
        for t in tracked:
            cursor.execute(_backfill(t, connection.vendor))
        if connection.vendor != "postgresql":
            cursor.execute(_SQLITE_NUMBER_BACKFILL)
            cursor.execute(_SQLITE_HEADS_AFTER_BACKFILL)


def install_after_migrate(sender, using="default", **kwargs) -> None:
    from django.db import connections

    connection = connections[using]
    if "plan" not in kwargs and "fhir_change" in connection.introspection.table_names():
        # `flush` (no migration plan) emptied every table, firing the delete triggers of some
        # after the log itself was emptied: an empty database has an empty log.
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM fhir_change")
            cursor.execute("DELETE FROM fhir_feedhead")
    install(connection)


# --- PostgreSQL ---------------------------------------------------------------------------------

_POSTGRES_FUNCTIONS = """
CREATE OR REPLACE FUNCTION fhir_feed_note(p uuid, kind text, rid text, gone boolean)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO fhir_change (practice_id, resource_type, resource_id, seq, created, deleted,
                           changed_at)
  VALUES (p, kind, rid, NULL, NOT gone, gone, clock_timestamp())
  ON CONFLICT (practice_id, resource_type, resource_id) DO UPDATE
    SET seq = NULL, created = false, deleted = EXCLUDED.deleted,
        changed_at = EXCLUDED.changed_at;
END $$;

-- Runs at COMMIT. The first firing numbers every row this transaction left unnumbered (rows
-- with no seq are only ever our own: committed rows always have one), a practice at a time in
-- practice order, each under its head row's lock, held until the commit is visible. Later
-- firings find their row numbered. One head update per practice per transaction: updating the
-- head row once per change would make a bulk load's commit quadratic (every update of a row in
-- one transaction leaves a version the next must step over).
-- Row by row, by primary key, and never a sequential scan: the planner's statistics on this
-- table are often far from what one transaction holds (a bulk load, a test), and a join planned
-- for one row over 60,000 (a window subquery scanned again for every row) took minutes.
CREATE OR REPLACE FUNCTION fhir_feed_number() RETURNS trigger LANGUAGE plpgsql
SET enable_seqscan = off AS $$
DECLARE p uuid; pos bigint; numbered bigint; change_id bigint;
BEGIN
  SELECT seq INTO numbered FROM fhir_change WHERE id = NEW.id;
  IF numbered IS NOT NULL OR NOT FOUND THEN
    RETURN NULL;
  END IF;
  FOR p IN SELECT DISTINCT practice_id FROM fhir_change WHERE seq IS NULL ORDER BY practice_id
  LOOP
    INSERT INTO fhir_feedhead (practice_id, last_seq)
      VALUES (p, COALESCE((SELECT MAX(seq) FROM fhir_change WHERE practice_id = p), 0))
      ON CONFLICT (practice_id) DO NOTHING;
    SELECT last_seq INTO pos FROM fhir_feedhead WHERE practice_id = p FOR UPDATE;
    -- The loop's query sees the rows as they were when it began, not the numbers it writes.
    FOR change_id IN
      SELECT id FROM fhir_change WHERE practice_id = p AND seq IS NULL ORDER BY id
    LOOP
      pos := pos + 1;
      UPDATE fhir_change SET seq = pos, changed_at = clock_timestamp() WHERE id = change_id;
    END LOOP;
    UPDATE fhir_feedhead SET last_seq = pos WHERE practice_id = p;
  END LOOP;
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS fhir_change_number ON fhir_change;
CREATE CONSTRAINT TRIGGER fhir_change_number AFTER INSERT OR UPDATE ON fhir_change
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.seq IS NULL)
  EXECUTE FUNCTION fhir_feed_number();
"""


def _postgres_trigger(t: Tracked) -> str:
    return f"""
CREATE OR REPLACE FUNCTION fhir_feed_{t.table}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r {t.table}; p uuid;
BEGIN
  IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
  p := {t.practice_sql("r")};
  IF p IS NOT NULL THEN
    PERFORM fhir_feed_note(p, '{t.resource_type}', ({t.resource_id_sql("r")})::text,
                           TG_OP = 'DELETE');
  END IF;
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS fhir_feed ON {t.table};
CREATE TRIGGER fhir_feed AFTER INSERT OR UPDATE OR DELETE ON {t.table}
  FOR EACH ROW EXECUTE FUNCTION fhir_feed_{t.table}();
"""


# --- SQLite -------------------------------------------------------------------------------------

_SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"


def _sqlite_triggers(t: Tracked) -> list[str]:
    statements = []
    for event, row, created, deleted in (
        ("INSERT", "NEW", 1, 0),
        ("UPDATE", "NEW", 0, 0),
        ("DELETE", "OLD", 0, 1),
    ):
        name = f"fhir_feed_{t.table}_{event.lower()}"
        p = t.practice_sql(row)
        statements += [
            f"DROP TRIGGER IF EXISTS {name}",
            f"""
CREATE TRIGGER {name} AFTER {event} ON {t.table} WHEN {p} IS NOT NULL
BEGIN
  INSERT INTO fhir_feedhead (practice_id, last_seq)
    VALUES ({p}, COALESCE((SELECT MAX(seq) FROM fhir_change WHERE practice_id = {p}), 0))
    ON CONFLICT (practice_id) DO NOTHING;
  UPDATE fhir_feedhead SET last_seq = last_seq + 1 WHERE practice_id = {p};
  INSERT INTO fhir_change (practice_id, resource_type, resource_id, seq, created, deleted,
                           changed_at)
  VALUES ({p}, '{t.resource_type}', {t.resource_id_sql(row)},
          (SELECT last_seq FROM fhir_feedhead WHERE practice_id = {p}), {created}, {deleted},
          {_SQLITE_NOW})
  ON CONFLICT (practice_id, resource_type, resource_id) DO UPDATE
    SET seq = excluded.seq, created = excluded.created, deleted = excluded.deleted,
        changed_at = excluded.changed_at;
END""",
        ]
    return statements


def _backfill(t: Tracked, vendor: str) -> str:
    """Note the rows that have no change row yet (data from before the feed existed)."""
    p = t.practice_sql("t")
    rid = f"CAST({t.resource_id_sql('t')} AS text)"
    now, yes, no = (
        ("clock_timestamp()", "true", "false")
        if vendor == "postgresql"
        else (_SQLITE_NOW, "1", "0")
    )
    return f"""
INSERT INTO fhir_change (practice_id, resource_type, resource_id, seq, created, deleted,
                         changed_at)
SELECT DISTINCT {p}, '{t.resource_type}', {rid}, CAST(NULL AS bigint), {yes}, {no}, {now}
FROM {t.table} t
WHERE {p} IS NOT NULL AND NOT EXISTS (
  SELECT 1 FROM fhir_change c
  WHERE c.practice_id = {p} AND c.resource_type = '{t.resource_type}' AND c.resource_id = {rid})
"""


# SQLite numbers backfilled rows here (PostgreSQL's commit trigger does it there).
_SQLITE_NUMBER_BACKFILL = """
UPDATE fhir_change SET seq = numbered.seq FROM (
  SELECT c.id, COALESCE(h.last_seq, 0)
         + ROW_NUMBER() OVER (PARTITION BY c.practice_id ORDER BY c.id) AS seq
  FROM fhir_change c LEFT JOIN fhir_feedhead h ON h.practice_id = c.practice_id
  WHERE c.seq IS NULL
) AS numbered WHERE fhir_change.id = numbered.id
"""
_SQLITE_HEADS_AFTER_BACKFILL = """
INSERT INTO fhir_feedhead (practice_id, last_seq)
SELECT practice_id, MAX(seq) FROM fhir_change WHERE true GROUP BY practice_id
ON CONFLICT (practice_id) DO UPDATE SET last_seq = MAX(last_seq, excluded.last_seq)
"""
