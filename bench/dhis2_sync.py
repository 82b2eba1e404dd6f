"""DHIS2 sync speed and memory: 20,000 tracked entities served by the local stub DHIS2 over
200 pages, imported by the real sync service.

Run against the database DATABASE_URL names (migrated), e.g.
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/campaignid .venv/bin/python \
        bench/dhis2_sync.py
The stub runs in its own process so this process's memory is the sync's alone. It creates a
throwaway program and campaign, runs a first sync (every entity created) and a full re-sync
(every entity read again, unchanged), prints entities/s, seconds, the RSS after the first
pages and the peak (flat: pages are streamed and written one at a time), then deletes what it
created. Target: 20,000 entities in under 60 s on a 2-core machine.
"""

import argparse
import multiprocessing
import os
import sys
import threading
import time
import uuid
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campaignid.settings")
# The stub DHIS2 listens on 127.0.0.1, which user-entered addresses may not reach by default.
os.environ.setdefault("OUTBOUND_ALLOW_PRIVATE", "127.0.0.1")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from campaigns.dhis2.connection import connection_save  # noqa: E402
from campaigns.dhis2.models import CampaignDhis2Link, Dhis2SyncRun  # noqa: E402
from campaigns.dhis2.sync import sync_execute  # noqa: E402
from campaigns.models import Beneficiary, Campaign, QuotaTransaction  # noqa: E402
from campaigns.services import program_create  # noqa: E402
from tests.stubs.dhis2 import COUNTRY, MAPPING, PROGRAM, Dhis2Stub  # noqa: E402


def serve_stub(entities, ready):
    """The child process: a stub DHIS2 with `entities` tracked entities, until killed."""
    stub = Dhis2Stub()
    stub.add_entities(entities)
    stub.start()
    ready.send(stub.config())
    while True:
        time.sleep(3600)


class RssSampler(threading.Thread):
    """The process's RSS every 50 ms, and when the first `early_pages` pages were written."""

    def __init__(self, run_id, early_pages):
        super().__init__(daemon=True)
        self.run_id, self.early_pages = run_id, early_pages
        self.peak = self.early = 0.0
        self.stop = threading.Event()

    def run(self):
        process = psutil.Process()
        while not self.stop.wait(0.05):
            rss = process.memory_info().rss / 2**20
            self.peak = max(self.peak, rss)
            if not self.early:
                pages = Dhis2SyncRun.objects.filter(pk=self.run_id).values_list(
                    "pages_done", flat=True).first()
                if pages and pages >= self.early_pages:
                    self.early = rss


def measure(label, campaign, *, full, entities, page_size):
    run = Dhis2SyncRun.objects.create(campaign=campaign, full=full, page_size=page_size)
    sampler = RssSampler(run.pk, early_pages=10)
    sampler.start()
    started = time.perf_counter()
    sync_execute(run_id=run.pk)
    seconds = time.perf_counter() - started
    sampler.stop.set()
    sampler.join()
    run.refresh_from_db()
    assert run.status == "completed", run.error
    done = run.created_count + run.updated_count + run.unchanged_count + run.skipped_count
    assert done == entities, run
    print(
        f"{label:<22} {entities:>7} entities  {run.pages_done:>4} pages  {seconds:7.2f} s  "
        f"{entities / seconds:>8,.0f} entities/s  created {run.created_count:>6}  "
        f"unchanged {run.unchanged_count:>6}  rss after 10 pages {sampler.early:6.1f} MB  "
        f"peak {sampler.peak:6.1f} MB"
    )
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=20_000)
    parser.add_argument("--page-size", type=int, default=100)
    args = parser.parse_args()

    print(f"database: {connection.vendor} {connection.settings_dict.get('NAME')}  "
          f"cpus {os.cpu_count()}  python pid {os.getpid()}")
    receiver, sender = multiprocessing.Pipe(duplex=False)
    server = multiprocessing.get_context("fork").Process(
        target=serve_stub, args=(args.entities, sender), daemon=True
    )
    server.start()
    config = receiver.recv()

    tag = uuid.uuid4().hex[:6].upper()
    program = program_create(slug=f"bench-{tag.lower()}", name=f"Bench {tag}", country="SN")
    connection_save(program=program, config=config, enabled=True)
    campaign = Campaign.objects.create(
        program=program, name=f"DHIS2 bench {tag}", campaign_type="vaccination",
        prefix=f"D{tag}",
    )
    CampaignDhis2Link.objects.create(campaign=campaign, program_uid=PROGRAM,
                                     org_unit_uid=COUNTRY, mapping=dict(MAPPING))
    try:
        first = measure("first sync (create)", campaign, full=True, entities=args.entities,
                        page_size=args.page_size)
        measure("full re-sync (same)", campaign, full=True, entities=args.entities,
                page_size=args.page_size)
        count = Beneficiary.objects.filter(campaign=campaign).count()
        assert count == args.entities, count
        verdict = "OK" if first < 60 else "TOO SLOW"
        print(f"{args.entities:,} entities in under 60 s: {verdict} ({first:.2f} s)")
    finally:
        server.kill()
        campaign.delete()
        QuotaTransaction.objects.filter(program=program).delete()
        program.delete()


if __name__ == "__main__":
    main()
