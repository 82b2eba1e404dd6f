"""DHIS2 integration, a Django app of its own (label `dhis2`): a program's connection, a
campaign's link and the sync that imports its tracked entities as beneficiaries."""
