"""Finding anyone in a campaign: the one query behind the campaign page's beneficiary list and
`GET /api/campaigns/<id>/beneficiaries`.

A search term matches a first or last name, an external id or MPI id (parts of them), the
last digits of a phone number, or what a facet matches (a card code, whole or its part after
the prefix). The other filters are the facets of settings.BENEFICIARY_FACETS (card status,
delivery status; campaigns/beneficiary_facets.py), each an EXISTS or a subquery on an indexed
foreign key: one statement, however many people (200,000 in a campaign).
"""

from django.db.models import Q

from campaigns.beneficiary_facets import facets
from campaigns.models import Beneficiary

# Shorter terms would match phone and card endings by chance: names and ids only.
MIN_SUFFIX = 4
PHONE_SEPARATORS = str.maketrans("", "", " +-./()")


def beneficiary_search(*, campaign, q="", filters=None):
    """The campaign's beneficiaries matching every given criterion, oldest first, with each
    facet's annotation. `filters`: {facet name: value}, empty values ignored."""
    filters = filters or {}
    people = Beneficiary.objects.filter(campaign=campaign)
    for facet in facets():
        people = facet.annotate(people)
    for term in _terms(q):
        people = people.filter(_term_matches(campaign, term))
    for facet in facets():
        if filters.get(facet.name):
            people = facet.filter(people, campaign=campaign, value=filters[facet.name])
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
    for facet in facets():
        matches = facet.term_matches(campaign=campaign, term=term)
        if matches is not None:
            match |= matches
    return match


def beneficiary_page(*, campaign, filters, page, page_size):
    """One page of the search for the campaign page: (rows, total, page), each row the person
    and {facet page_key: what the page shows}. A page past the end shows the last one."""
    people = beneficiary_search(campaign=campaign, q=filters.get("q") or "", filters=filters)
    total = people.count()
    last_page = max(1, -(-total // page_size))
    page = min(max(1, page or 1), last_page)
    shown = list(people[(page - 1) * page_size : page * page_size])
    values = {facet.page_key: facet.page_values(people=shown) or {} for facet in facets()}
    rows = [(person, {key: by_id.get(person.pk) for key, by_id in values.items()})
            for person in shown]
    return rows, total, page
