"""A person's "stop sending me messages": the STOP words they may reply with, and the one write
that records the opt-out.

An opt-out is only ever set here, never cleared automatically: a later import row saying
`opted_out=no`, a new consent or a DHIS2 sync leave it in place. Only staff clear it (the
Django admin). Dispatch, single sends and the DHIS2 send-card all skip opted-out people.

Keywords: the whole message, trimmed, compared without case or accents, so "stop", " Stop ",
"ARRÊT" and "arret" all count, but "please stop the messages" does not (a long message may
say anything; a one-word reply is unambiguous). The Wolof word is BAYIL ("leave it",
"stop it", from bayi, to leave); it is a draft choice that awaits a native speaker's review.
"""

import unicodedata

from django.db import transaction
from django.utils import timezone

from campaigns.models import Beneficiary, OptOutSource

STOP_KEYWORDS = frozenset({"STOP", "ARRET", "BAYIL"})


def _folded(text):
    """Upper case, accents removed, inner spaces collapsed: "  Arrêt " -> "ARRET"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.split()).upper()


def is_stop_message(text):
    """True when the whole message, trimmed, is one of STOP_KEYWORDS (also with a final
    full stop or exclamation mark, as phones' keyboards add them)."""
    return _folded(text).rstrip(".!") in STOP_KEYWORDS


def beneficiary_opt_out(*, program, phone, source, at=None):
    """Opts out every beneficiary of `program` whose phone is `phone` (E.164), in every
    campaign, keeping an earlier opt-out's date and source; returns how many were newly
    opted out. `source` is an OptOutSource value."""
    if source not in OptOutSource.values:
        raise ValueError(f"unknown opt-out source {source!r}")
    if not phone:
        return 0
    with transaction.atomic():
        return Beneficiary.objects.for_program(program).filter(
            phone=phone, opted_out_at__isnull=True
        ).update(opted_out_at=at or timezone.now(), opted_out_source=source,
                 updated_at=timezone.now())
