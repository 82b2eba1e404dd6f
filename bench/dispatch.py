"""Dispatch throughput and rate limit, end to end, on real RQ workers.

Starts the local Orange SMS stub (tests/stubs) in this process, a throwaway program with
N beneficiaries and cards (bulk inserts, no rendering), and `manage.py rqworker dispatch`
worker processes; then

1. sends N messages with a rate limit high enough not to bind: messages/s from `start` until
   every recipient has its final status and every Message row is written (queued -> sent ->
   logged), and the stub's own first-to-last request rate;
2. sends M messages under a binding rate limit: the most requests the stub saw in one
   calendar second and in any sliding second, against the limit.

Prints each worker's peak RSS. Uses DATABASE_URL / REDIS_URL like the app (migrates the
database first); the program it creates is deleted at the end.

    .venv/bin/python bench/dispatch.py --messages 10000 --workers 2 --limited 2000 --rate 200
"""

import argparse
import json
import os
import secrets
import subprocess
import sys
import time
from datetime import date
from datetime import time as dtime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.process_tree import TreeSampler  # noqa: E402


def setup_django():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campaignid.settings")
    import django

    django.setup()


class StubProcess:
    """bench/orange_stub.py in its own process: `url`, `config()`, `send_times()`."""

    def __init__(self):
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "orange_stub.py")], cwd=ROOT,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        started = json.loads(self.process.stdout.readline())
        self.url, self._config = started["url"], started["config"]

    @property
    def pid(self):
        return self.process.pid

    def config(self):
        return dict(self._config)

    def send_times(self):
        self.process.stdin.write("times\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def stop(self):
        self.process.stdin.write("quit\n")
        self.process.stdin.close()
        self.process.wait(timeout=10)


def make_run(*, program, count, rate, stub):
    """A campaign of `count` beneficiaries with one card each, and a draft SMS dispatch."""
    from campaigns.models import Beneficiary, Campaign, Job
    from cards.codes import new_card_code
    from cards.models import Card
    from distribution.dispatch.runs import dispatch_create
    from distribution.integrations import integration_save

    integration_save(program=program, channel="sms", config=stub.config(), enabled=True)
    prefix = "B" + secrets.token_hex(3).upper()
    campaign = Campaign.objects.create(program=program, name=f"Bench {prefix}", prefix=prefix,
                                       campaign_type="vaccination", language="fr")
    people = Beneficiary.objects.bulk_create([
        Beneficiary(campaign=campaign, first_name="Awa", last_name=f"Sarr {i}",
                    date_of_birth=date(2018, 3, 1), sex="F", phone=f"+22177{i:07d}",
                    external_id=f"enr{i}", consent_sms=True)
        for i in range(count)
    ], batch_size=2000)
    job = Job.objects.create(campaign=campaign, status=Job.Status.COMPLETED, total_cards=count)
    Card.objects.bulk_create([
        Card(campaign=campaign, beneficiary=person, job=job, code=new_card_code(prefix),
             token="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" * 3, issued_on=date(2026, 5, 17))
        for person in people
    ], batch_size=2000)
    return dispatch_create(
        campaign=campaign, first_channel="sms", rate_limit_per_second=rate,
        window_start=dtime(0, 0), window_end=dtime(0, 0), weekdays=list(range(7)),
        retry_delays=[0],
    )


def start_workers(n, stub, log_dir):
    env = dict(os.environ, ORANGE_API_URL=stub.url, PYTHONUNBUFFERED="1", LOG_LEVEL="WARNING",
               DB_CONN_MAX_AGE=os.environ.get("DB_CONN_MAX_AGE", "60"))  # README "Servers"
    return [
        subprocess.Popen(
            [sys.executable, "manage.py", "rqworker", "dispatch", "--with-scheduler"],
            cwd=ROOT, env=env, start_new_session=True,
            stdout=open(log_dir / f"bench-dispatch-worker-{i}.log", "wb"),
            stderr=subprocess.STDOUT,
        )
        for i in range(n)
    ]


def run_dispatch(dispatch, stub, *, timeout):
    from distribution.dispatch.progress import dispatch_counters
    from distribution.dispatch.runs import dispatch_start
    from distribution.models import Dispatch, Message

    before = len(stub.send_times())
    began = time.perf_counter()
    dispatch_start(dispatch=dispatch)
    deadline = time.monotonic() + timeout
    while Dispatch.objects.get(pk=dispatch.pk).status != Dispatch.Status.DONE:
        if time.monotonic() > deadline:
            raise SystemExit(f"dispatch {dispatch.pk} not done after {timeout}s: "
                             f"{dispatch_counters(dispatch)}")
        time.sleep(0.05)
    elapsed = time.perf_counter() - began
    counters = dispatch_counters(Dispatch.objects.get(pk=dispatch.pk))
    logged = Message.objects.filter(dispatch=dispatch, status="sent").count()
    return elapsed, counters, logged, stub.send_times()[before:]


def per_second(times):
    buckets = {}
    for t in times:
        buckets[int(t)] = buckets.get(int(t), 0) + 1
    ordered, start, sliding = sorted(times), 0, 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - 1.0:
            start += 1
        sliding = max(sliding, end - start + 1)
    return max(buckets.values(), default=0), sliding


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limited", type=int, default=2_000,
                        help="messages of the rate-limited run (0: skip it)")
    parser.add_argument("--rate", type=int, default=200, help="its limit, messages/s")
    parser.add_argument("--unlimited-rate", type=int, default=10_000,
                        help="the limit of the first run (high enough not to bind)")
    options = parser.parse_args()

    setup_django()
    from django.conf import settings
    from django.core.management import call_command

    from campaigns.services import program_create

    call_command("migrate", verbosity=0)
    stub = StubProcess()
    program = program_create(slug=f"bench-dispatch-{secrets.token_hex(4)}",
                             name="Bench dispatch", quota=0)
    workers = start_workers(options.workers, stub, Path(settings.VAR_DIR))
    sampler = TreeSampler([stub, *workers])
    sampler.start()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"({os.cpu_count()} cores)")
    try:
        time.sleep(2.0)  # workers up (Django import) before the clock starts
        fast = make_run(program=program, count=options.messages, rate=options.unlimited_rate,
                        stub=stub)
        sampler.sample()
        cpu_before = sampler.cpu_seconds()
        elapsed, counters, logged, times = run_dispatch(fast, stub, timeout=600)
        sampler.sample()
        cpu_per_message = (sampler.cpu_seconds() - cpu_before) / options.messages
        wire = (len(times) - 1) / (max(times) - min(times)) if len(times) > 1 else 0
        print(f"run 1: {options.messages} SMS, {options.workers} workers, limit "
              f"{options.unlimited_rate}/s")
        print(f"  end to end (start -> all sent and logged): {elapsed:.2f} s = "
              f"{options.messages / elapsed:.0f} messages/s")
        print(f"  at the stub (first -> last request): {wire:.0f} requests/s; "
              f"per-second max {per_second(times)[0]}")
        print(f"  succeeded {counters['succeeded']}, failed {counters['failed']}, "
              f"Message rows sent {logged}, stub requests {len(times)}")
        print(f"  CPU of the workers and the stub: {cpu_per_message * 1000:.2f} ms per message "
              f"(what {os.cpu_count()} idle cores would allow: "
              f"{os.cpu_count() / cpu_per_message:.0f} messages/s, PostgreSQL and Redis aside)")
        if options.limited:
            limited = make_run(program=program, count=options.limited, rate=options.rate,
                               stub=stub)
            elapsed, counters, logged, times = run_dispatch(limited, stub, timeout=600)
            calendar, sliding = per_second(times)
            verdict = "OK" if max(calendar, sliding) <= options.rate else "EXCEEDED"
            print(f"run 2: {options.limited} SMS, limit {options.rate}/s")
            print(f"  {elapsed:.2f} s = {options.limited / elapsed:.0f} messages/s; max in one "
                  f"calendar second {calendar}, in any sliding second {sliding} "
                  f"(limit {options.rate}): {verdict}")
            print(f"  succeeded {counters['succeeded']}, stub requests {len(times)}")
    finally:
        sampler.stop()
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        for process in workers:
            os.killpg(process.pid, 15)
        for process in workers:
            process.wait(timeout=30)
        stub.stop()
        print(sampler.report("workers and stub"))
        program.delete()


if __name__ == "__main__":
    main()
