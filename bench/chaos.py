"""Chaos: a generation job, a dispatch and a DHIS2 sync run together on three workers while
workers are SIGKILLed, Redis restarts empty and PostgreSQL drops every connection; then what
came out is checked with tools independent of the code under test.

    .venv/bin/python bench/chaos.py --small   # 1,000 cards, 2,000 messages, 2,000 entities
    .venv/bin/python bench/chaos.py           # 10,000 cards, 20,000 messages, 20,000 entities

Needs PostgreSQL (the server DATABASE_URL names, default 127.0.0.1:5432): a fresh database
`chaos_<stamp>` is created, migrated and dropped at the end (--keep keeps it). Runs its own
Redis (redis-server on a free port, nothing saved), since it restarts it. The Orange and
DHIS2 stubs (tests/stubs) run in this process and record what reached them.

Faults, while the three runs go: every --kill-every seconds (10) a random worker is
SIGKILLed (its whole process group) and started again; at --redis-at seconds Redis is
killed and started empty; at --postgres-at seconds every PostgreSQL backend of the database
is terminated. Workers run the recovery sweeps every 5 s (RECOVERY_SWEEP_SECONDS).

Checks, once every run is final (or --timeout passed):
- cards: the print PDF's page count by `pdfinfo` (two pages a card), the PNG entries of the
  ZIP (Python's zipfile), one card row per beneficiary and one quota debit (SQL);
- messages: the Orange stub's own log: each eligible number exactly once;
- entities: each DHIS2 enrollment the stub serves exactly once among the beneficiaries (SQL);
- every run in a final state.
Prints the time from the last fault to the end and the peak memory of the whole process tree,
then one line `chaos: <cards> cards, <messages> messages, <entities> entities — <lost> lost,
<doubled> doubled`; exits non-zero unless both are 0 and every run completed.
"""

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from datetime import date
from datetime import time as dtime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.process_tree import TreeSampler  # noqa: E402

SIZES = {"small": (1_000, 2_000, 2_000), "full": (10_000, 20_000, 20_000)}
QUEUES = ("cards", "dispatch", "dhis2", "default")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    """A redis-server of the bench's own, on a free port, keeping nothing on disk."""

    def __init__(self, workdir):
        self.port, self.workdir, self.process = free_port(), workdir, None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("redis-server did not start")

    def restart_empty(self):
        self.process.kill()
        self.process.wait()
        self.start()

    def stop(self):
        self.process.kill()
        self.process.wait()


def database_urls(stamp):
    base = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test"))
    name = f"chaos_{stamp}"
    return (urlunsplit(base._replace(path="/postgres")), urlunsplit(base._replace(path=f"/{name}")),
            name)


class Workers:
    """Three `rqworker` processes on every queue, each in its own process group."""

    def __init__(self, count, env, log_dir):
        self.env, self.log_dir, self.started = env, log_dir, 0
        self.processes = [self._start() for _ in range(count)]
        # The bench's own tree: workers started again after a kill are in it too.
        self.sampler = TreeSampler([os.getpid()], every=0.25)
        self.sampler.start()

    def _start(self):
        self.started += 1
        log = open(self.log_dir / f"worker-{self.started}.log", "wb")  # noqa: SIM115
        return subprocess.Popen(
            [sys.executable, "manage.py", "rqworker", *QUEUES, "--with-scheduler"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)

    def kill_one(self):
        index = random.randrange(len(self.processes))
        victim = self.processes[index]
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait()
        self.processes[index] = self._start()

    def stop(self):
        self.sampler.stop()
        for process in self.processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def setup(cards, messages, entities, orange, dhis2):
    """The program, the three campaigns and their runs (not yet started)."""
    from campaigns.dhis2.connection import connection_save
    from campaigns.dhis2.models import CampaignDhis2Link
    from campaigns.models import Beneficiary, Campaign, Job
    from campaigns.services import program_create
    from cards.codes import new_card_code
    from cards.models import Card
    from distribution.dispatch.runs import dispatch_create
    from distribution.integrations import integration_save
    from tests.stubs.dhis2 import COUNTRY, MAPPING, PROGRAM

    program = program_create(slug="chaos", name="Chaos", quota=10**9)
    printing = Campaign.objects.create(
        program=program, name="Chaos cards", campaign_type="vaccination", prefix="CHC",
        language="fr", template_id="vaccination",
        template_options={"values": {"vaccine": "RR1", "doses": "1"}})
    Beneficiary.objects.bulk_create([
        Beneficiary(campaign=printing, first_name=f"Awa{i}", last_name="Ndiaye",
                    date_of_birth=date(2019, 1 + i % 12, 1 + i % 28), sex="F",
                    external_id=f"C{i:07d}") for i in range(cards)], batch_size=5000)

    integration_save(program=program, channel="sms", config=orange.config(), enabled=True)
    sending = Campaign.objects.create(program=program, name="Chaos SMS", prefix="CHS",
                                      campaign_type="vaccination", language="fr")
    people = Beneficiary.objects.bulk_create([
        Beneficiary(campaign=sending, first_name="Fatou", last_name=f"Sarr {i}",
                    date_of_birth=date(2018, 3, 1), sex="F", phone=f"+22178{i:07d}",
                    external_id=f"S{i:07d}", consent_sms=True) for i in range(messages)],
        batch_size=5000)
    # Issued cards without rendering: the dispatch sends their text and link.
    issued = Job.objects.create(campaign=sending, status=Job.Status.COMPLETED,
                                total_cards=messages)
    Card.objects.bulk_create([
        Card(campaign=sending, beneficiary=person, job=issued, code=new_card_code("CHS"),
             token="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" * 3, issued_on=date(2026, 5, 17))
        for person in people], batch_size=5000)
    dispatch = dispatch_create(
        campaign=sending, first_channel="sms", rate_limit_per_second=1000,
        window_start=dtime(0, 0), window_end=dtime(0, 0), weekdays=list(range(7)),
        retry_delays=[0, 0])

    connection_save(program=program, config=dhis2.config(), enabled=True)
    importing = Campaign.objects.create(program=program, name="Chaos DHIS2", prefix="CHD",
                                        campaign_type="vaccination", language="fr")
    CampaignDhis2Link.objects.create(campaign=importing, program_uid=PROGRAM,
                                     org_unit_uid=COUNTRY, mapping=dict(MAPPING))
    return printing, dispatch, importing


def start_runs(printing, dispatch, importing):
    from campaigns.dhis2.sync import sync_request
    from cards.generation import job_create
    from distribution.dispatch.runs import dispatch_start

    job = job_create(campaign=printing)
    dispatch_start(dispatch=dispatch)
    run = sync_request(campaign=importing, full=True)
    return job, run


def all_final(job, dispatch, run):
    from campaigns.dhis2.models import Dhis2SyncRun
    from campaigns.models import Job
    from distribution.models import Dispatch

    return (Job.objects.get(pk=job.pk).status in Job.FINAL_STATUSES
            and Dispatch.objects.get(pk=dispatch.pk).status == Dispatch.Status.DONE
            and not Dhis2SyncRun.objects.get(pk=run.pk).is_active)


def check(job, dispatch, run, orange, dhis2, media_root):
    """(lost, doubled, problems) by the stubs' logs, pdfinfo, zipfile and SQL."""
    from django.db import connection

    from campaigns.dhis2.models import Dhis2SyncRun
    from campaigns.models import Job
    from distribution.models import Dispatch
    from tests.stubs.dhis2 import uid

    problems, lost, doubled = [], 0, 0
    job = Job.objects.get(pk=job.pk)
    expected = job.campaign.beneficiaries.count()
    if job.status != Job.Status.COMPLETED:
        problems.append(f"job {job.status}: {job.error}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT b.id, count(c.id) FROM campaigns_beneficiary b LEFT JOIN "
                       "cards_card c ON c.beneficiary_id = b.id AND c.job_id = %s "
                       "WHERE b.campaign_id = %s GROUP BY b.id", [job.pk, job.campaign_id])
        per_person = Counter(dict(cursor.fetchall()))
        cursor.execute("SELECT count(*) FROM campaigns_quotatransaction WHERE job_id = %s "
                       "AND kind = 'debit'", [job.pk])
        debits = cursor.fetchone()[0]
    tally = {}
    tally["cards"] = (sum(1 for n in per_person.values() if n == 0),
                      sum(n - 1 for n in per_person.values() if n > 1))
    if debits != 1:
        problems.append(f"{debits} quota debits for the job")
    if job.pdf:
        pages = subprocess.run(["pdfinfo", str(media_root / job.pdf.name)], capture_output=True,
                               text=True, check=False).stdout
        count = next((int(line.split()[-1]) for line in pages.splitlines()
                      if line.startswith("Pages:")), -1)
        if count != 2 * expected:
            problems.append(f"print PDF has {count} pages for {expected} cards")
    if job.zip:
        with zipfile.ZipFile(media_root / job.zip.name) as archive:
            # One PNG a card, named by its code (the card back is one more, shared).
            pngs = [n for n in archive.namelist()
                    if n.endswith(".png") and n.startswith(job.campaign.prefix + "-")]
        if len(pngs) != expected or len(set(pngs)) != expected:
            problems.append(f"ZIP holds {len(pngs)} PNGs for {expected} cards")

    eligible = set(dispatch.campaign.beneficiaries.values_list("phone", flat=True))
    sent = Counter(s["address"].removeprefix("tel:") for s in orange.sent)
    tally["messages"] = (len(eligible - set(sent)), sum(n - 1 for n in sent.values() if n > 1))
    if Dispatch.objects.get(pk=dispatch.pk).status != Dispatch.Status.DONE:
        problems.append("dispatch not done")

    served = {uid("En", n) for n in range(len(dhis2.entities))}
    imported = Counter(run.campaign.beneficiaries.values_list("external_id", flat=True))
    tally["entities"] = (len(served - set(imported)),
                         sum(n - 1 for n in imported.values() if n > 1))
    sync = Dhis2SyncRun.objects.get(pk=run.pk)
    if sync.status != "completed":
        problems.append(f"DHIS2 sync {sync.status}: {sync.error}")
    for what, (missing, extra) in tally.items():
        if missing or extra:
            problems.append(f"{what}: {missing} lost, {extra} doubled")
        lost, doubled = lost + missing, doubled + extra
    return lost, doubled, problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="1,000 / 2,000 / 2,000")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--kill-every", type=float, default=10.0)
    parser.add_argument("--redis-at", type=float, default=15.0)
    parser.add_argument("--postgres-at", type=float, default=5.0)
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    options = parser.parse_args()
    cards, messages, entities = SIZES["small" if options.small else "full"]

    stamp = time.strftime("%Y%m%d%H%M%S")
    admin_url, database_url, database = database_urls(stamp)
    workdir = Path(tempfile.mkdtemp(prefix="chaos-"))
    media_root = workdir / "media"
    redis = PrivateRedis(workdir)
    redis.start()
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=redis.url,
               MEDIA_ROOT=str(media_root), OUTBOUND_ALLOW_PRIVATE="127.0.0.1",
               RECOVERY_SWEEP_SECONDS="5", PYTHONUNBUFFERED="1", LOG_LEVEL="WARNING",
               CAMPAIGNID_LAPTOP=os.environ.get("CAMPAIGNID_LAPTOP", "1"))
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "MEDIA_ROOT",
                                           "OUTBOUND_ALLOW_PRIVATE", "CAMPAIGNID_LAPTOP")})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campaignid.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from tests.stubs.dhis2 import Dhis2Stub
    from tests.stubs.orange import OrangeStub

    call_command("migrate", verbosity=0)
    orange = OrangeStub().start()
    orange._server.socket.listen(512)  # the workers' many connections open together
    env["ORANGE_API_URL"] = orange.url
    dhis2 = Dhis2Stub().start()
    dhis2.add_entities(entities)
    printing, dispatch, importing = setup(cards, messages, entities, orange, dhis2)
    print(f"chaos: {cards} cards, {messages} messages, {entities} entities on "
          f"{options.workers} workers; database {database}, Redis :{redis.port}")

    workers = Workers(options.workers, env, workdir)
    time.sleep(3)  # the workers import Django before the clock starts
    began = time.monotonic()
    job, run = start_runs(printing, dispatch, importing)
    faults, last_fault, next_kill = [], began, began + options.kill_every
    redis_done = postgres_done = False
    try:
        while time.monotonic() - began < options.timeout:
            now = time.monotonic()
            if not redis_done and now - began >= options.redis_at:
                redis.restart_empty()
                redis_done, last_fault = True, time.monotonic()
                faults.append(f"{now - began:5.1f} s  Redis restarted empty")
            if not postgres_done and now - began >= options.postgres_at:
                # Workers hold a connection only while a task runs: try until one is cut.
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                        "datname = current_database() AND pid <> pg_backend_pid()")
                    killed = cursor.fetchone()[0]
                if killed or now - began >= options.postgres_at + 10:
                    postgres_done, last_fault = True, time.monotonic()
                    faults.append(f"{now - began:5.1f} s  {killed} PostgreSQL backends "
                                  "terminated")
            try:
                finished = all_final(job, dispatch, run)
            except Exception:  # our own connection may have been one of the dropped
                connection.close()
                finished = False
            if finished and redis_done and postgres_done:
                break
            if now >= next_kill:
                workers.kill_one()
                last_fault, next_kill = time.monotonic(), now + options.kill_every
                faults.append(f"{now - began:5.1f} s  a worker SIGKILLed and restarted")
            time.sleep(0.25)
        ended = time.monotonic()
        time.sleep(2)  # requests the stubs are still answering
        for line in faults:
            print("  " + line)
        lost, doubled, problems = check(job, dispatch, run, orange, dhis2, media_root)
        print(f"  all runs final {ended - began:.1f} s after the start; "
              f"{ended - last_fault:.1f} s after the last fault")
        print(f"  peak memory of the whole process tree (stubs, workers and their children): "
              f"{workers.sampler.tree_peak / 2**20:.0f} MiB ({workers.started} worker processes "
              "started in all)")
        for problem in problems:
            print(f"  PROBLEM: {problem}")
        print(f"chaos: {cards} cards, {messages} messages, {entities} entities — "
              f"{lost} lost, {doubled} doubled")
        status = 0 if lost == doubled == 0 and not problems else 1
    finally:
        workers.stop()
        orange.stop()
        dhis2.stop()
        connection.close()
        redis.stop()
        if not options.keep:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"kept: database {database}, files {workdir}")
    sys.exit(status)


if __name__ == "__main__":
    main()
