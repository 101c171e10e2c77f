"""The worker's downtime-pack job: a fresh pack for each practice, every few minutes."""

import logging

from django_scopes import scopes_disabled

from steadfast.continuity import services
from steadfast.continuity.models import DowntimePassphrase
from steadfast.practices.models import Practice

logger = logging.getLogger(__name__)


@scopes_disabled()
def build_downtime_packs() -> int:
    """Store a pack for every practice whose passphrase the worker was given; returns how many.

    A practice with no passphrase set, or a passphrase that does not match the one the worker
    holds, is logged and skipped: no pack is better than one nobody can open.
    """
    try:
        passphrase = services.given_passphrase()
    except services.PassphraseProblem as exc:
        logger.error("downtime packs not built: %s", exc)
        return 0
    if not passphrase:
        logger.warning(
            "downtime packs not built: set STEADFAST_PACK_PASSPHRASE or "
            "STEADFAST_PACK_PASSPHRASE_FILE for the worker"
        )
        return 0
    built = 0
    with_passphrase = DowntimePassphrase.objects.values_list("practice_id", flat=True)
    for practice in Practice.objects.filter(pk__in=with_passphrase).order_by("ods_code"):
        try:
            services.store_pack(practice, passphrase)
        except services.PassphraseProblem as exc:
            logger.error("downtime pack for %s not built: %s", practice.ods_code, exc)
            continue
        built += 1
    return built
