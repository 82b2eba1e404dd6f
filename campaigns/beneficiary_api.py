"""POST /api/campaigns/<id>/beneficiaries: CSV upload or JSON rows (see campaigns/imports.py)."""
