"""DHIS2 integration: a program's connection, a campaign's link and the sync that imports its
tracked entities as beneficiaries. Models live in campaigns/models.py."""
