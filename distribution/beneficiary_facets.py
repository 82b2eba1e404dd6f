"""The beneficiary search by delivery (settings.BENEFICIARY_FACETS,
campaigns/beneficiary_facets.py): the furthest any message to the person reached (read,
delivered, sent, failed: every attempt failed; not sent: nothing left the server yet). Each
person found carries it too, as `delivery_status` (the list's column, the API's field)."""

from django.db.models import Case, Exists, OuterRef, Q, Value, When
from django.utils.translation import gettext_lazy as _

from campaigns.beneficiary_facets import Facet
from distribution.models import Message

# Furthest first: a person's delivery status is the first of these any message reached.
DELIVERY_ORDER = (Message.Status.READ, Message.Status.DELIVERED, Message.Status.SENT,
                  Message.Status.FAILED)
NOT_SENT = "not_sent"


class DeliveryStatusFacet(Facet):
    name = "delivery_status"
    page_key = "delivery"
    label = _("Delivery")
    choices = (
        (NOT_SENT, _("Not sent")),
        ("sent", _("Sent")),
        ("delivered", _("Delivered")),
        ("read", _("Read")),
        ("failed", _("Failed")),
    )
    help_text = ("The furthest any message to the person reached: read, delivered, sent, "
                 "failed (every attempt failed), not_sent (none sent yet).")
    row_help_text = ("The furthest any message to the person reached (as the delivery_status "
                     "filter): read, delivered, sent, failed (every attempt failed), not_sent.")

    def annotate(self, people):
        return people.annotate(delivery_status=Case(
            *(When(reached, then=Value(status)) for status, reached in _reached().items()),
            default=Value(NOT_SENT),
        ))

    def filter(self, people, *, campaign, value):
        reached = _reached()
        if value == NOT_SENT:
            wanted, further = Q(), DELIVERY_ORDER
        else:
            position = DELIVERY_ORDER.index(value)
            wanted, further = reached[value], DELIVERY_ORDER[:position]
        for status in further:
            wanted &= ~reached[status]
        return people.filter(wanted)

    def page_values(self, *, people):
        """The label the list shows (a dash when not sent), from the annotation: no query."""
        labels = dict(self.choices)
        return {
            person.pk: "—" if person.delivery_status == NOT_SENT
            else labels.get(person.delivery_status, person.delivery_status)
            for person in people
        }


def _reached():
    """Per status of DELIVERY_ORDER (furthest first): whether a message of the person got it."""
    return {
        status: Exists(Message.objects.filter(beneficiary=OuterRef("pk"), status=status))
        for status in DELIVERY_ORDER
    }
