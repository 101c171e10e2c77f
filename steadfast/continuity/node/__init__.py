"""The practice node: a live copy of one practice, kept seconds behind the central server.

Central side: node tokens and the staff endpoint. Node side (STEADFAST_NODE=1): `steadfast node
init/follow/status`, which apply the FHIR `_history` feed to the node's own SQLite database, and
the read-only mode and banner of the node's web pages.
"""
