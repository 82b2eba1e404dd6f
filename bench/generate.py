"""A real generation job, end to end: API service -> RQ -> N worker processes -> artifacts.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench REDIS_URL=redis://127.0.0.1:6379/14 \\
        .venv/bin/python bench/generate.py --cards 10000 --workers 2 --dpi 300 450 600 --reference

Migrates the database, then for each --dpi creates a throwaway program and campaign with
--cards beneficiaries, starts --workers `manage.py rqworker cards` processes, accepts one job
and waits for it to complete. Prints the job's wall time and cards/s, cards/s per stage
(sign, qr, layout_pdf, raster, png, store, merge_pdf, merge_zip, manifest, portal: per
worker-second, summed over workers, from cards/stage_timings.py) and each worker's peak RSS
(sampled, with its children), and the job's timeline: when prepare, the chunks and
packaging ran, and the worker-seconds spent waiting. Then it deletes what it created; it
refuses to start while another job of its database is unfinished (the workers' recovery
sweep would render that job too). With --reference each job
runs a second time on today's full WeasyPrint path (CARD_LAYOUT=reference: a page laid out
per card) in the same run, and the summary prints both figures and their ratio, so the gain
is measured side by side on a noisy machine. The cards are those of a measles round: name,
birth date and sex from tests/data, the dose (1 or 2) varies, the vaccine, issue and expiry
dates are the same on every card. Goal on the 2-core machine (issue #18): >= 300 cards/s
with two workers at 300 dpi and every worker <= 250 MB at 10,000 and at 50,000 cards.
"""

import argparse
import csv
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "data" / "beneficiaries-1000.csv"
STAGES = ["sign", "qr", "layout_pdf", "raster", "png", "store", "merge_pdf", "merge_zip",
          "manifest", "portal_build"]


def setup_django(media_root):
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campaignid.settings")
    # A benchmark on a laptop: no SECRET_KEY to set (the workers inherit it).
    os.environ.setdefault("CAMPAIGNID_LAPTOP", "1")
    os.environ["MEDIA_ROOT"] = str(media_root)
    import django

    django.setup()


def make_campaign(cards, dpi):
    from campaigns.models import Beneficiary, Campaign
    from campaigns.services import program_create

    stamp = int(time.time())
    program = program_create(slug=f"bench-{stamp}", name="Ministère de la Santé — Bench",
                             quota=10_000_000)
    campaign = Campaign.objects.create(
        program=program, name="Bench", campaign_type="vaccination",
        prefix=f"B{stamp % 10**6:06d}", language="fr", template_id="vaccination", dpi=dpi,
        card_validity_months=24,
    )
    with SAMPLE.open(encoding="utf-8") as fh:
        people = list(csv.DictReader(fh))
    rows = []
    for i in range(cards):
        person = people[i % len(people)]
        rows.append(Beneficiary(
            campaign=campaign, first_name=person["first_name"], last_name=person["last_name"],
            date_of_birth=date.fromisoformat(person["date_of_birth"]), sex=person["sex"],
            phone=person["phone_number"], external_id=f"B{i:08d}", mpi_id=person["mpi_id"],
            # A measles round: one vaccine for everyone, the dose each child is at.
            attributes={"vaccine": "RR", "doses": 1 + i % 2, "district": person["district"]},
        ))
        if len(rows) == 5000:
            Beneficiary.objects.bulk_create(rows)
            rows = []
    Beneficiary.objects.bulk_create(rows)
    return program, campaign


class PeakRss(threading.Thread):
    """Samples a process and its children every 0.2 s; keeps the peak of their sum."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak = 0
        self.running = True

    def run(self):
        while self.running:
            try:
                family = [self.process, *self.process.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in family))
            except psutil.Error:
                return
            time.sleep(0.2)


def print_timeline(spans, started_at, ended_at, workers):
    """When prepare, rendering and packaging ran (seconds since the job was accepted), and
    how long workers waited: workers x wall time minus the time spent in tasks."""
    if not spans:
        print("\ntimeline: no task spans recorded")
        return

    def at(moment):
        return moment - started_at

    def phase(kind):
        runs = [(start, end) for task, _pid, start, end in spans if task.split()[0] == kind]
        return (min(s for s, _ in runs), max(e for _, e in runs), len(runs)) if runs else None

    prepare, chunks, package = phase("prepare"), phase("chunk"), phase("package")
    wall = ended_at - started_at
    busy = sum(end - start for _task, _pid, start, end in spans)
    print("\ntimeline (s since the job was accepted)")
    for name, found in (("prepare", prepare), ("chunks", chunks), ("package", package)):
        if found:
            print(f"  {name:<8} {at(found[0]):6.1f} -> {at(found[1]):6.1f}  "
                  f"({found[1] - found[0]:5.1f} s, {found[2]} task runs)")
    if chunks:
        ends = sorted(end for task, _pid, _start, end in spans if task.startswith("chunk"))
        print(f"  first chunk done at {at(ends[0]):.1f} s, last at {at(ends[-1]):.1f} s")

    def idle_between(start, end):
        # Worker-seconds in [start, end] not covered by any task.
        covered = sum(max(0.0, min(e, end) - max(s, start)) for _t, _p, s, e in spans)
        return workers * max(0.0, end - start) - covered

    summary = []
    if prepare:
        summary.append(f"prepare {prepare[1] - started_at:.1f} s")
    if chunks:
        summary.append(f"rendering {chunks[1] - chunks[0]:.1f} s")
    if package:
        summary.append(f"packaging {package[1] - package[0]:.1f} s")
    summary.append(f"idle worker-s {workers * wall - busy:.1f} of {workers * wall:.1f}")
    print("  " + ", ".join(summary))
    if prepare and chunks:
        print(f"  idle while preparing {idle_between(started_at, prepare[1]):.1f} worker-s, "
              f"while rendering {idle_between(chunks[0], chunks[1]):.1f}, "
              + (f"while packaging {idle_between(package[0], package[1]):.1f}" if package
                 else ""))


def run_job(options, dpi, layout, media_root):
    """One job through fresh workers with CARD_LAYOUT=`layout`; prints its figures and
    returns (seconds, peak RSS per worker)."""
    from campaigns.models import Job
    from cards import generation, stage_timings

    tick = time.perf_counter()
    _, campaign = make_campaign(options.cards, dpi)
    print(f"\n== {options.cards} cards at {dpi} dpi, {layout} layout: {options.cards} "
          f"beneficiaries set up in {time.perf_counter() - tick:.1f} s")

    env = dict(os.environ, MEDIA_ROOT=str(media_root), PYTHONUNBUFFERED="1", CARD_LAYOUT=layout)
    workers = [
        subprocess.Popen([sys.executable, "manage.py", "rqworker", "cards"], cwd=ROOT, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
        for _ in range(options.workers)
    ]
    meters = [PeakRss(worker.pid) for worker in workers]
    for meter in meters:
        meter.start()
    time.sleep(3)  # workers import Django and register before the clock starts
    try:
        started = time.perf_counter()
        started_at = time.time()
        job = generation.job_create(campaign=campaign, dpi=dpi, chunk_size=options.chunk)
        while True:
            job.refresh_from_db()
            if job.is_final:
                break
            time.sleep(0.25)
        elapsed = time.perf_counter() - started
        ended_at = started_at + elapsed
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                # Never left behind: it would take the next run's tasks.
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
        for meter in meters:
            meter.running = False

    if job.status != Job.Status.COMPLETED:
        print(f"job {job.status}: {job.error}")
        sys.exit(1)
    sizes = {kind: getattr(job, kind).size for kind in ("pdf", "zip", "manifest", "portal")
             if getattr(job, kind)}
    print(f"job {job.pk}: {options.cards} cards in {elapsed:.1f} s "
          f"= {options.cards / elapsed:.1f} cards/s end to end")
    print("artifacts: " + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in sizes.items()))
    timings = stage_timings.read(job.pk)
    print("stage          worker-s   cards/s per worker-second")
    for stage in STAGES:
        seconds = timings.get(stage, 0.0)
        rate = f"{options.cards / seconds:10.0f}" if seconds else "         -"
        print(f"{stage:<14}{seconds:8.1f}  {rate}")
    print_timeline(stage_timings.read_spans(job.pk), started_at, ended_at, options.workers)
    print("peak RSS per worker: " + ", ".join(f"{m.peak / 2**20:.0f} MB" for m in meters))
    campaign.delete()
    return elapsed, [meter.peak for meter in meters]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dpi", type=int, nargs="+", default=[300], choices=(300, 450, 600))
    parser.add_argument("--chunk", type=int, default=None,
                        help="cards a chunk (default: the job default, DEFAULT_CHUNK_SIZE)")
    parser.add_argument("--reference", action="store_true",
                        help="also run each job with CARD_LAYOUT=reference (a WeasyPrint "
                             "page per card) and print the ratio")
    options = parser.parse_args()

    media_root = Path(tempfile.mkdtemp(prefix="bench-media-"))
    setup_django(media_root)
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from cards.generation import DEFAULT_CHUNK_SIZE

    options.chunk = options.chunk or DEFAULT_CHUNK_SIZE
    from campaigns.models import Job

    unfinished = list(Job.objects.exclude(status__in=Job.FINAL_STATUSES)
                      .values_list("pk", flat=True))
    if unfinished:
        # The workers' recovery sweep would queue those jobs' tasks here, and the run would
        # render them too (minutes of chunks before this job's first).
        sys.exit(f"jobs {unfinished} are in progress in this database: cancel them, or use "
                 "another DATABASE_URL")
    print(f"database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, "
          f"{options.workers} workers, chunks of {options.chunk}")
    layouts = ["layers", "reference"] if options.reference else ["layers"]
    results = {}
    try:
        for dpi in options.dpi:
            for layout in layouts:
                results[dpi, layout] = run_job(options, dpi, layout, media_root)
    finally:
        shutil.rmtree(media_root, ignore_errors=True)

    print(f"\n{options.cards} cards, {options.workers} workers (goal at 300 dpi: >= 300 cards/s, "
          "<= 250 MB a worker)")
    for (dpi, layout), (seconds, peaks) in results.items():
        line = (f"{dpi} dpi  {layout:<9} {seconds:6.1f} s  {options.cards / seconds:6.1f} "
                f"cards/s  peak {max(peaks) / 2**20:.0f} MB a worker")
        if layout == "reference":
            line += f"  (typeset layers: {seconds / results[dpi, 'layers'][0]:.2f}x faster)"
        print(line)


if __name__ == "__main__":
    main()
