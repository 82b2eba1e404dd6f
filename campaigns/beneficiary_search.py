"""Finding anyone in a campaign: the one query behind the campaign page's beneficiary list and
`GET /api/campaigns/<id>/beneficiaries`.

A search term matches a first or last name, an external id or MPI id (parts of them), the
last digits of a phone number, or a card code (whole, or its part after the prefix). Filters:

- card status, of the person's newest card (the one the list shows): none, valid, revoked,
  expired (on the program's today);
- delivery status, the furthest any message reached: read, delivered, sent, failed (every
  attempt failed), not sent (nothing left the server yet). Each person found also carries it
  as `delivery_status` (the list's column and the API's field), by the same rule.

Each filter is an EXISTS or a subquery on an indexed foreign key: one statement, however many
people (200,000 in a campaign).
"""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Case, Exists, OuterRef, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.models import Beneficiary
from cards.models import Card
from distribution.models import Message

CARD_STATUS_CHOICES = (
    ("none", _("No card")),
    ("valid", _("Valid card")),
    ("revoked", _("Revoked card")),
    ("expired", _("Expired card")),
)
DELIVERY_STATUS_CHOICES = (
    ("not_sent", _("Not sent")),
    ("sent", _("Sent")),
    ("delivered", _("Delivered")),
    ("read", _("Read")),
    ("failed", _("Failed")),
)
# Furthest first: a person's delivery status is the first of these any message reached.
DELIVERY_ORDER = (Message.Status.READ, Message.Status.DELIVERED, Message.Status.SENT,
                  Message.Status.FAILED)
# Shorter terms would match phone and card endings by chance: names and ids only.
MIN_SUFFIX = 4
PHONE_SEPARATORS = str.maketrans("", "", " +-./()")


def beneficiary_search(*, campaign, q="", card_status="", delivery_status=""):
    """The campaign's beneficiaries matching every given criterion, oldest first, each with
    its `delivery_status` (a DELIVERY_STATUS_CHOICES code)."""
    people = Beneficiary.objects.filter(campaign=campaign).annotate(
        delivery_status=Case(
            *(When(reached, then=Value(status)) for status, reached in _reached().items()),
            default=Value("not_sent"),
        )
    )
    for term in _terms(q):
        people = people.filter(_term_matches(campaign, term))
    if card_status:
        people = _with_card_status(people, campaign, card_status)
    if delivery_status:
        people = _with_delivery_status(people, delivery_status)
    return people.order_by("id")


def _terms(q):
    """Whitespace-separated terms, except a phone number typed with spaces ("77 123 45 67"),
    which is one run of digits."""
    q = (q or "").strip()
    digits = q.translate(PHONE_SEPARATORS)
    if digits.isdigit():
        return [digits]
    return q.split()


def _term_matches(campaign, term):
    match = (
        Q(first_name__icontains=term) | Q(last_name__icontains=term)
        | Q(external_id__icontains=term) | Q(mpi_id__icontains=term)
    )
    if len(term) < MIN_SUFFIX:
        return match
    digits = term.translate(PHONE_SEPARATORS)
    if digits.isdigit():
        match |= Q(phone__endswith=digits)
    # Codes are stored upper case; the part after the prefix is enough. An uncorrelated IN:
    # the campaign's matching cards are read once, not per person.
    cards = Card.objects.filter(campaign=campaign, code__endswith=term.upper())
    return match | Q(pk__in=cards.values("beneficiary_id"))


def _with_card_status(people, campaign, card_status):
    if card_status == "none":
        return people.filter(~Exists(Card.objects.filter(beneficiary=OuterRef("pk"))))
    # Each person's newest card: no later card of theirs (an anti-join, not a query per row).
    newest = Card.objects.filter(campaign=campaign).exclude(
        Exists(Card.objects.filter(beneficiary=OuterRef("beneficiary"), id__gt=OuterRef("id")))
    )
    if card_status == "revoked":
        newest = newest.filter(revoked_at__isnull=False)
    else:
        not_expired = Q(expires_on__isnull=True) | Q(expires_on__gte=_program_today(campaign))
        newest = newest.filter(revoked_at__isnull=True)
        newest = newest.exclude(not_expired) if card_status == "expired" else newest.filter(
            not_expired
        )
    return people.filter(pk__in=newest.values("beneficiary_id"))


def delivery_label(delivery_status):
    """A person's delivery status as the list shows it: its label, a dash when not sent."""
    if delivery_status in (None, "", "not_sent"):
        return "—"
    return dict(DELIVERY_STATUS_CHOICES).get(delivery_status, delivery_status)


def _reached():
    """Per status of DELIVERY_ORDER (furthest first): whether a message of the person got it."""
    return {
        status: Exists(Message.objects.filter(beneficiary=OuterRef("pk"), status=status))
        for status in DELIVERY_ORDER
    }


def _with_delivery_status(people, delivery_status):
    reached = _reached()
    if delivery_status == "not_sent":
        wanted, further = Q(), DELIVERY_ORDER
    else:
        position = DELIVERY_ORDER.index(delivery_status)
        wanted, further = reached[delivery_status], DELIVERY_ORDER[:position]
    for status in further:
        wanted &= ~reached[status]
    return people.filter(wanted)


def _program_today(campaign):
    try:
        zone = ZoneInfo(campaign.program.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return timezone.localtime(timezone.now(), zone).date()


def beneficiary_page(*, campaign, filters, page, page_size):
    """One page of the search for the campaign page: (rows, total, page), each row the person
    and their newest card (None without one). A page past the end shows the last one."""
    people = beneficiary_search(
        campaign=campaign,
        q=filters.get("q") or "",
        card_status=filters.get("card_status") or "",
        delivery_status=filters.get("delivery_status") or "",
    )
    total = people.count()
    last_page = max(1, -(-total // page_size))
    page = min(max(1, page or 1), last_page)
    shown = list(people[(page - 1) * page_size : page * page_size])
    newest = {}
    # One query: each shown person's live card, else their newest (a failed reissue leaves a
    # newer, revoked card behind the one that is valid again).
    for card in Card.objects.filter(beneficiary__in=shown).order_by("id"):
        held = newest.get(card.beneficiary_id)
        if held is None or not _live(held) or _live(card):
            newest[card.beneficiary_id] = card
    return [(person, newest.get(person.pk)) for person in shown], total, page


def _live(card):
    return card.revoked_at is None and card.superseded_at is None
