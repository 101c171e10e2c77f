"""Downtime working on a practice node, and reconciliation that loses nothing.

Node side: `steadfast node downtime start|stop` lets the node take writes through the usual
services while the central server is gone; each write is also a journal entry in the same
transaction (journal.py). `steadfast node reconcile` sends the journal, in order, to the central
server's `$reconcile-downtime` FHIR operation (reconcile.py). Central side: each entry is applied
once, as its real author, through the same services (replay.py); what no longer fits goes to the
worklist at /continuity/reconcile/ for a person (services.py, views.py).
"""
