"""Peak memory and CPU of every process a benchmark starts, children included.

`TreeSampler([root processes])` samples each root and all its descendants (an RQ worker's
scheduler, uvicorn's worker processes, a stub server) every 0.2 s: the resident memory of
the whole tree (the sum at each sample; its peak over the run) and each process's own peak
and CPU seconds. A process that exits keeps the last figures seen.
"""

import threading

import psutil


class TreeSampler(threading.Thread):
    def __init__(self, roots, *, every=0.2):
        super().__init__(daemon=True)
        self.roots = [psutil.Process(getattr(root, "pid", root)) for root in roots]
        self.every = every
        self.tree_peak = 0
        self.processes = {}  # pid -> {"name", "peak", "cpu"}
        self.stop_event = threading.Event()

    def run(self):
        while True:
            self.sample()
            if self.stop_event.wait(self.every):
                return

    def stop(self):
        """Stops sampling after one last sample (call before ending the processes)."""
        self.stop_event.set()
        self.join()
        self.sample()

    def sample(self):
        total = 0
        for process in self._family():
            try:
                with process.oneshot():
                    rss = process.memory_info().rss
                    cpu = process.cpu_times()
                    seen = self.processes.setdefault(process.pid, {
                        "name": _name(process), "peak": 0, "cpu": 0.0})
            except psutil.Error:
                continue
            total += rss
            seen["peak"] = max(seen["peak"], rss)
            seen["cpu"] = cpu.user + cpu.system
        self.tree_peak = max(self.tree_peak, total)

    def report(self, title="process tree"):
        lines = [f"{title}: peak RSS {self.tree_peak / 2**20:.0f} MiB (sum of every process "
                 f"at each sample), CPU {self.cpu_seconds():.1f} s"]
        short_lived = 0
        for pid, seen in sorted(self.processes.items()):
            if seen["peak"] < 5 * 2**20 and seen["cpu"] < 0.5:
                short_lived += 1  # e.g. the compiler ctypes runs to find a library
                continue
            lines.append(f"  pid {pid} {seen['name']}: peak RSS {seen['peak'] / 2**20:.0f} MiB, "
                         f"CPU {seen['cpu']:.1f} s")
        if short_lived:
            lines.append(f"  and {short_lived} short-lived helper processes (under 5 MiB each)")
        return "\n".join(lines)

    def cpu_seconds(self):
        return sum(seen["cpu"] for seen in self.processes.values())

    def _family(self):
        family = []
        for root in self.roots:
            try:
                family.extend([root, *root.children(recursive=True)])
            except psutil.Error:
                continue
        return family


def _name(process):
    """The command line's telling part, e.g. `manage.py rqworker dispatch`."""
    try:
        words = process.cmdline()
    except psutil.Error:
        return "?"
    if any("multiprocessing.spawn" in w for w in words):
        return "worker process (multiprocessing spawn of its parent)"
    if any("multiprocessing.resource_tracker" in w for w in words):
        return "multiprocessing resource tracker"
    words = [w for w in words if not w.endswith(("python", "python3", "python3.11"))]
    return " ".join(w.rsplit("/", 1)[-1] if i == 0 else w for i, w in enumerate(words))[:80]
