"""Filters of the beneficiary search that belong to the apps above campaigns: the card a person
holds (cards), how far their messages got (distribution). Each is a Facet listed in
settings.BENEFICIARY_FACETS, so campaigns searches by them without importing those apps.

A facet's `name` is the query parameter (page and API), the form field, and, when it
annotates the people it finds, the field of each API row."""

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string


class Facet:
    name = ""
    page_key = ""  # the key of its value in each row of the campaign page's list
    label = ""
    choices = ()  # ((code, label), ...)
    help_text = ""  # the API parameter's description
    row_help_text = ""  # the API row field's description; empty: no row field

    def filter(self, people, *, campaign, value):
        """`people` narrowed to those whose facet is `value` (one of `choices`)."""
        raise NotImplementedError

    def annotate(self, people):
        """`people` with the facet's code as an attribute `name`, when it has a row field."""
        return people

    def term_matches(self, *, campaign, term):
        """A Q matching people by this facet for a search term, or None."""
        return None

    def page_values(self, *, people):
        """{person id: what the page shows for each of these people}, or None."""
        return None


@cache
def facets():
    return tuple(import_string(path)() for path in settings.BENEFICIARY_FACETS)
