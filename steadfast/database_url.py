"""DATABASE_URL to Django's DATABASES entry, including libpq's multi-host form.

A Patroni cluster is reached as `postgresql://steadfast@db1:5432,db2:5432,db3:5432/steadfast`:
libpq tries each host in turn and, with `target_session_attrs=read-write` (the default here for
more than one host), keeps only the primary, so after a failover the next connection finds the new
one by itself. dj-database-url refuses such a URL, so the host list is taken out first and handed
to Django as HOST="db1,db2,db3", PORT="5432,5432,5432", which psycopg passes to libpq unchanged.
"""

from urllib.parse import urlsplit, urlunsplit

import dj_database_url

MULTI_HOST_OPTIONS = {"target_session_attrs": "read-write", "connect_timeout": 3}


def parse(url: str, **kwargs) -> dict:
    parts = urlsplit(url)
    userinfo, at, hosts = parts.netloc.rpartition("@")
    if "," not in hosts:
        return dj_database_url.parse(url, **kwargs)
    members = [host.rpartition(":") if ":" in host else (host, "", "") for host in hosts.split(",")]
    first = parts._replace(netloc=f"{userinfo}{at}{members[0][0]}")
    db = dj_database_url.parse(urlunsplit(first), **kwargs)
    db["HOST"] = ",".join(host for host, _, _ in members)
    db["PORT"] = ",".join(port or "5432" for _, _, port in members)
    db["OPTIONS"] = MULTI_HOST_OPTIONS | db.get("OPTIONS", {})
    return db
