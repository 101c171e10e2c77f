"""A journal entry as the central server receives it: one entry of a FHIR `batch` Bundle.

The entry is a conditional create (`request.ifNoneExist: identifier=urn:steadfast:downtime|<uuid>`)
of the `$downtime-entry` operation's Parameters (the action, its data, the acting user, the time
by the node's clock); an update also carries `request.ifMatch` with the version the node saw.
"""

import json
from datetime import datetime
from uuid import UUID

from steadfast.continuity.downtime.replay import DOWNTIME_SYSTEM, REPLAY, Incoming

OPERATION = "$downtime-entry"
CODE_PARAMETERS = {"action": "valueCode", "clock": "valueCode", "sequence": "valueInteger"}


class BadEntry(ValueError):
    """The Bundle entry is not a downtime entry this server can read."""


def bundle_entry(entry) -> dict:
    """A node's JournalEntry as a `batch` Bundle entry."""
    request = {
        "method": "POST",
        "url": OPERATION,
        "ifNoneExist": f"identifier={DOWNTIME_SYSTEM}|{entry.uuid}",
    }
    if "appointment" in entry.bases:
        request["ifMatch"] = f'W/"{entry.bases["appointment"]}"'
    return {
        "fullUrl": f"urn:uuid:{entry.uuid}",
        "resource": {
            "resourceType": "Parameters",
            "parameter": [
                {"name": "action", "valueCode": entry.action},
                {"name": "sequence", "valueInteger": entry.seq},
                {"name": "author", "valueString": str(entry.author_id)},
                {"name": "occurred", "valueDateTime": entry.occurred_at.isoformat()},
                {"name": "clock", "valueCode": "node"},
                {"name": "data", "valueString": json.dumps(entry.data)},
                {"name": "bases", "valueString": json.dumps(entry.bases)},
                {"name": "made", "valueString": json.dumps(entry.made)},
            ],
        },
        "request": request,
    }


def read_entry(item: dict) -> Incoming:
    """The Incoming entry, or BadEntry saying what is wrong with it."""
    try:
        request = item["request"]
        if request.get("method") != "POST" or request.get("url") != OPERATION:
            raise BadEntry(f"Each entry must be POST {OPERATION}.")
        uuid = UUID(item["fullUrl"].removeprefix("urn:uuid:"))
        if request.get("ifNoneExist") != f"identifier={DOWNTIME_SYSTEM}|{uuid}":
            raise BadEntry("ifNoneExist must name the entry's own identifier.")
        resource = item["resource"]
        if resource.get("resourceType") != "Parameters":
            raise BadEntry("Each entry's resource must be a Parameters resource.")
        values = {
            p["name"]: p[CODE_PARAMETERS.get(p["name"], "valueString")]
            for p in resource["parameter"]
            if p["name"] != "occurred"
        }
        occurred = next(p for p in resource["parameter"] if p["name"] == "occurred")
        occurred_at = datetime.fromisoformat(occurred["valueDateTime"])
        if occurred_at.tzinfo is None:
            raise BadEntry("occurred must have a time zone.")
        bases = json.loads(values["bases"])
        if "appointment" in bases and request.get("ifMatch") != f'W/"{bases["appointment"]}"':
            raise BadEntry("ifMatch must name the version the entry was based on.")
        if values["action"] not in REPLAY:
            raise BadEntry(f"{values['action']} is not a downtime action.")
        return Incoming(
            uuid=uuid,
            seq=int(values["sequence"]),
            action=values["action"],
            author_id=int(values["author"]),
            occurred_at=occurred_at,
            data=json.loads(values["data"]),
            bases=bases,
            made=json.loads(values["made"]),
        )
    except BadEntry:
        raise
    except (KeyError, TypeError, ValueError, StopIteration, AttributeError) as exc:
        raise BadEntry(
            f"Not a downtime entry this server can read ({type(exc).__name__})."
        ) from exc
