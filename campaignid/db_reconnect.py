"""Surviving a dropped database connection (a failover, a restarted PostgreSQL, a proxy that
cut an idle connection) in the middle of work that holds results only in memory: the
statement is run again on a new connection, a few times, before the error is let through.
Only for statements that are safe to run twice (conditional updates, idempotent writes) and
that run outside a transaction block (a broken transaction cannot be resumed)."""

import logging
import time

from django.db import InterfaceError, OperationalError, connection

logger = logging.getLogger(__name__)

ATTEMPTS = 4
PAUSE_SECONDS = 0.5


def connection_lost(exc):
    """True for the errors a dropped connection raises (not a constraint or a syntax error),
    from Django's cursors or from the driver's own (campaignid/bulk_sql.py's)."""
    driver = connection.Database
    return isinstance(exc, (OperationalError, InterfaceError, driver.OperationalError,
                            driver.InterfaceError))


def reconnect():
    """Drops this thread's broken connection; Django opens a new one at the next query."""
    try:
        connection.close()
    except Exception:  # closing a dead connection may fail too; it is gone either way
        logger.debug("closing a dropped database connection failed")


def with_reconnect(write, *, what):
    """Runs `write()`; after a dropped connection, again on a new one (ATTEMPTS in all)."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return write()
        except Exception as exc:
            if not connection_lost(exc) or attempt == ATTEMPTS or connection.in_atomic_block:
                raise
            logger.warning("database connection lost while %s (%s); retrying on a new one",
                           what, type(exc).__name__)
            reconnect()
            time.sleep(PAUSE_SECONDS * attempt)
    return None
