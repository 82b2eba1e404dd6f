"""Beneficiary import speed: the 1,000-row sample file and a generated 20,000-row file.

Run against the database DATABASE_URL names (it migrates it first), e.g.
    CAMPAIGNID_LAPTOP=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/campaignid \
        .venv/bin/python bench/import_beneficiaries.py
It creates a throwaway program and campaign, imports each file twice (create, then the
re-import that updates every row), prints rows/s, seconds and peak RSS, and deletes what
it created. Target: the 1,000-row file in under 2 s on PostgreSQL.
"""

import argparse
import os
import resource
import sys
import time
import uuid
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campaignid.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from campaigns.imports import beneficiaries_import  # noqa: E402
from campaigns.models import Beneficiary, Campaign, QuotaTransaction  # noqa: E402
from campaigns.services import program_create  # noqa: E402

SAMPLE = ROOT / "tests" / "data" / "beneficiaries-1000.csv"


def generated_csv(rows):
    """`rows` lines cycled from the sample file, each with its own external_id."""
    header, *lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    out = [header]
    for n in range(rows):
        _, rest = lines[n % len(lines)].split(",", 1)
        out.append(f"bench{n:07d},{rest}")
    return ("\n".join(out) + "\n").encode()


def peak_rss_mb():
    # ru_maxrss is in KiB on Linux: the process's peak so far.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(label, campaign, data, rows):
    before = psutil.Process().memory_info().rss / 2**20
    started = time.perf_counter()
    result = beneficiaries_import(campaign=campaign, csv_file=data)
    seconds = time.perf_counter() - started
    assert result.total == rows, result
    print(
        f"{label:<28} {rows:>7} rows  {seconds:7.3f} s  {rows / seconds:>9,.0f} rows/s  "
        f"created {result.created:>6}  updated {result.updated:>6}  "
        f"rss before {before:6.1f} MB  peak {peak_rss_mb():6.1f} MB"
    )
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000, help="size of the generated file")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)  # a clean database is enough
    settings_db = connection.settings_dict
    print(f"database: {connection.vendor} {settings_db.get('NAME')}  python pid {os.getpid()}")
    tag = uuid.uuid4().hex[:6].upper()
    program = program_create(slug=f"bench-{tag.lower()}", name=f"Bench {tag}", country="SN")
    campaign = Campaign.objects.create(
        program=program, name=f"Import bench {tag}", campaign_type="vaccination",
        prefix=f"B{tag}",
    )
    big = generated_csv(args.rows)
    try:
        small = SAMPLE.read_bytes()
        first = measure("1,000-row file (create)", campaign, small, 1000)
        measure("1,000-row file (update)", campaign, small, 1000)
        Beneficiary.objects.filter(campaign=campaign).delete()
        measure(f"{args.rows:,}-row file (create)", campaign, big, args.rows)
        measure(f"{args.rows:,}-row file (update)", campaign, big, args.rows)
        verdict = "OK" if first < 2 else "TOO SLOW"
        print(f"1,000-row import under 2 s: {verdict} ({first:.3f} s)")
    finally:
        campaign.delete()
        QuotaTransaction.objects.filter(program=program).delete()
        program.delete()


if __name__ == "__main__":
    main()
