"""Machine noise around each timed invocation of a benchmark, and statistics that noise cannot decide.

Shared and virtual machines lose CPU to other work: a VM's host steals cycles (the `steal` column
of /proc/stat), and on a shared machine other processes run beside the benchmark. Both slow a
timed invocation without any change in the code measured. For every invocation these helpers
record, from /proc/stat and /proc/loadavg:

- steal %: CPU time the hypervisor gave to other guests, over all CPUs, while the invocation ran;
- others %: CPU time spent by processes other than the invocation (busy time of all CPUs minus
  the invocation's own user + system time, from getrusage of the finished child), over all CPUs;
- load: the 1-minute load average when it started;
- probe (when the caller gives a `Probe`): the machine's speed just before and just after the
  invocation, the lower of the two, as a rate of a short fixed job (the tools use a plain 2048³
  sgemm, `rkan-bench sgemm --repeats 1 --sizes 2048 --cblas-only`).

The probe catches what /proc cannot: on the Zen 3 VM of the performance notes, an afternoon with
0-1 % steal and no other process ran the same sgemm at 90-160 GFLOP/s instead of the morning's
180, and every benchmark with it.

A round is HEAVY when steal exceeds `STEAL_LIMIT` (10 %: the Intel VM of the performance notes
ran at 11-55 % steal in its slow invocations and under 6 % in its steady ones), others exceed
`OTHERS_LIMIT` (25 %: half a CPU of a 2-CPU machine taken by something else), or the probe of an
invocation is below `PROBE_LIMIT` (85 %) of the fastest probe of the session (judged again when
the rounds are finished, against the fastest probe of all of them). `alternate` repeats
a heavy round (up to `retries` times), keeps the medians to the rounds that were not heavy when
there are any, and says how many were dropped. Reports quote a median with its spread (IQR and
min-max) and the number of rounds it rests on; a ratio is the median of per-round ratios (both
sides of a round ran back to back, so they saw much the same machine).
"""
import os
import resource
import statistics

STEAL_LIMIT = 10.0    # % of all CPU time stolen by the hypervisor during one invocation
OTHERS_LIMIT = 25.0   # % of all CPU time used by other processes during one invocation
PROBE_LIMIT = 85.0    # % of the session's fastest probe below which an invocation is heavy


class Probe:
    """The machine's speed around each invocation: `measure()` returns the rate of a short fixed
    job (higher is faster; None when it could not run). Remembers the fastest of the session."""

    def __init__(self, measure, what="sgemm GFLOP/s"):
        self.measure, self.what, self.best = measure, what, None

    def __call__(self):
        v = self.measure()
        if v is not None and (self.best is None or v > self.best):
            self.best = v
        return v


def cpu_times():
    """(busy, steal, total) jiffies of all CPUs from /proc/stat's `cpu` line (None where unreadable).
    Fields: user nice system idle iowait irq softirq steal (guest time is already inside user)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:9]]
    except (OSError, ValueError, IndexError):
        return None
    fields += [0] * (8 - len(fields))
    user, nice, system, idle, iowait, irq, softirq, steal = fields
    return user + nice + system + irq + softirq, steal, sum(fields)


def load1():
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def children_cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def measured(fn, *args, probe=None, **kw):
    """(fn's result, noise) where noise = {"steal": %, "others": %, "load": 1-min load average,
    "probe": the lower of `probe()` just before and just after the call, or None} over the call
    (percentages of all CPUs' time; None where /proc is not there). `fn` should run its work in
    child processes (their CPU time is the invocation's own); the probes run outside the window."""
    p0 = probe() if probe else None
    t0, own0, l0 = cpu_times(), children_cpu_seconds(), load1()
    result = fn(*args, **kw)
    t1, own1 = cpu_times(), children_cpu_seconds()
    p1 = probe() if probe else None
    rates = [p for p in (p0, p1) if p is not None]
    noise = {"steal": None, "others": None, "load": l0, "probe": min(rates) if rates else None}
    if t0 and t1 and t1[2] > t0[2]:
        total = t1[2] - t0[2]
        hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        own = (own1 - own0) * hz
        noise["steal"] = 100.0 * (t1[1] - t0[1]) / total
        noise["others"] = max(0.0, 100.0 * ((t1[0] - t0[0]) - own) / total)
    return result, noise


def heavy(noise, steal_limit=STEAL_LIMIT, others_limit=OTHERS_LIMIT, probe_best=None, probe_limit=PROBE_LIMIT):
    """Whether one invocation ran under heavy steal, beside heavy other work, or on a machine
    slower than `probe_limit` % of its fastest probe `probe_best`."""
    s, o, p = noise.get("steal"), noise.get("others"), noise.get("probe")
    slow = p is not None and bool(probe_best) and 100.0 * p / probe_best < probe_limit
    return (s is not None and s > steal_limit) or (o is not None and o > others_limit) or slow


def describe_noise(noise):
    def pct(x):
        return "?" if x is None else f"{x:.0f} %"
    load, p = noise.get("load"), noise.get("probe")
    return (f"steal {pct(noise.get('steal'))}, others {pct(noise.get('others'))}, load {'?' if load is None else f'{load:.2f}'}"
            + ("" if p is None else f", probe {p:.0f}"))


def spread(values):
    """{"median", "q1", "q3", "min", "max", "n"} of a non-empty list (quartiles: inclusive method)."""
    v = sorted(values)
    q = statistics.quantiles(v, n=4, method="inclusive") if len(v) > 1 else [v[0], v[0], v[0]]
    return {"median": statistics.median(v), "q1": q[0], "q3": q[2], "min": v[0], "max": v[-1], "n": len(v)}


def fmt_spread(values, digits=1):
    """"median (IQR q1–q3, min–max lo–hi, n rounds)"."""
    if not values:
        return "–"
    s = spread(values)
    f = f"{{:.{digits}f}}"
    return (f"{f.format(s['median'])} (IQR {f.format(s['q1'])}–{f.format(s['q3'])}, "
            f"min–max {f.format(s['min'])}–{f.format(s['max'])}, n {s['n']})")


def new_result(sides):
    """An empty record of alternated rounds (filled by `add_round`, read by `finish`)."""
    return {"values": {s: [] for s in sides}, "noise": {s: [] for s in sides}, "heavy": [], "repeated": 0}


def one_round(result, r, call, retries=2, steal_limit=STEAL_LIMIT, others_limit=OTHERS_LIMIT, log=None, label="",
              measure=measured, probe=None, probe_limit=PROBE_LIMIT):
    """Round r (from 0) of `result`'s sides: `call(side)` once per side, in the sides' order in even
    rounds and reversed in odd ones (A B, B A, ...) so that a drift of the machine favours no side;
    `call` returns a number (e.g. img/s). When any invocation was heavy the round runs again, up to
    `retries` times; the last attempt is recorded, marked heavy if it still was. `probe` (a
    `Probe`, shared by all results of a session) times the machine around every invocation.
    `measure` (for the self-test) times one call and returns (value, noise)."""
    sides = list(result["values"])
    order = sides if r % 2 == 0 else sides[::-1]
    result["limits"] = {"steal_limit": steal_limit, "others_limit": others_limit, "probe_limit": probe_limit}
    result["probe"] = probe
    for attempt in range(retries + 1):
        got, noise = {}, {}
        for side in order:
            got[side], noise[side] = measure(call, side, probe=probe) if probe else measure(call, side)
            if log:
                log(f"round {r + 1}{'' if attempt == 0 else f' (again, {attempt})'}{label} {side}: {got[side]:.2f} "
                    f"({describe_noise(noise[side])})")
        is_heavy = any(heavy(noise[s], steal_limit, others_limit, probe.best if probe else None, probe_limit)
                       for s in sides)
        if not is_heavy or attempt == retries:
            break
        result["repeated"] += 1
    for s in sides:
        result["values"][s].append(got[s])
        result["noise"][s].append(noise[s])
    result["heavy"].append(is_heavy)
    return result


def finish(result):
    """Sets result["used"]: the rounds the medians use (those not heavy; all when every round was).
    With a probe, every round is judged again against the fastest probe of the whole session (a
    round taken before the machine showed its speed may have passed as clean)."""
    probe = result.get("probe")
    if probe is not None and probe.best:
        lim = result["limits"]
        result["heavy"] = [h or any(heavy(result["noise"][s][i], lim["steal_limit"], lim["others_limit"], probe.best,
                                          lim["probe_limit"]) for s in result["noise"])
                           for i, h in enumerate(result["heavy"])]
    clean = [i for i, h in enumerate(result["heavy"]) if not h]
    result["used"] = clean or list(range(len(result["heavy"])))
    return result


def alternate(sides, rounds, call, **kw):
    """`rounds` rounds of `one_round` over `sides`, finished (see `one_round` for the options)."""
    result = new_result(sides)
    for r in range(rounds):
        one_round(result, r, call, **kw)
    return finish(result)


def used(result, side):
    """The values of `side` in the rounds the medians use."""
    return [result["values"][side][i] for i in result["used"]]


def ratios(result, top, bottom):
    """Per-round ratios top ÷ bottom over the rounds the medians use."""
    return [result["values"][top][i] / result["values"][bottom][i] for i in result["used"]]


def summary_line(result):
    """How many rounds, how many heavy, how many repeated, and the noise seen."""
    rounds = len(result["heavy"])
    steals = [n["steal"] for v in result["noise"].values() for n in v if n.get("steal") is not None]
    others = [n["others"] for v in result["noise"].values() for n in v if n.get("others") is not None]
    loads = [n["load"] for v in result["noise"].values() for n in v if n.get("load") is not None]
    parts = [f"{rounds} alternating rounds, {len(result['used'])} used"]
    heavy_n = sum(result["heavy"])
    if heavy_n:
        parts.append(f"{heavy_n} still heavy after {result['repeated']} repeats"
                     + (" (all kept: no clean round)" if len(result["used"]) == rounds else " (dropped)"))
    elif result["repeated"]:
        parts.append(f"{result['repeated']} heavy rounds run again")
    if steals:
        parts.append(f"steal {min(steals):.0f}–{max(steals):.0f} %")
    if others:
        parts.append(f"others {min(others):.0f}–{max(others):.0f} %")
    if loads:
        parts.append(f"load {min(loads):.2f}–{max(loads):.2f}")
    probes = [n["probe"] for v in result["noise"].values() for n in v if n.get("probe") is not None]
    probe = result.get("probe")
    if probes and probe is not None and probe.best:
        parts.append(f"probe ({probe.what}) {min(probes):.0f}–{max(probes):.0f}, fastest of the session {probe.best:.0f}")
    return "; ".join(parts)


def _selftest():
    """python3 -m Tools.bench.noise: the statistics and the round logic on scripted noise."""
    sp = spread([5, 1, 4, 2, 3])
    assert (sp["median"], sp["q1"], sp["q3"], sp["min"], sp["max"], sp["n"]) == (3, 2, 4, 1, 5, 5), sp
    assert fmt_spread([2.0]) == "2.0 (IQR 2.0–2.0, min–max 2.0–2.0, n 1)", fmt_spread([2.0])
    assert heavy({"steal": 11.0, "others": 0.0}) and heavy({"steal": 0.0, "others": 26.0})
    assert not heavy({"steal": 10.0, "others": 25.0}) and not heavy({"steal": None, "others": None})
    order, script = [], iter([30, 0, 0, 0, 0, 0, 50, 50, 50, 50, 50, 50])   # steal % per call

    def fake(call, side):
        order.append(side)
        return call(side), {"steal": float(next(script)), "others": 0.0, "load": 1.0}
    res = new_result(["a", "b"])
    for r in range(3):
        one_round(res, r, lambda s: 1.0 if s == "a" else 2.0, retries=2, measure=fake)
    finish(res)
    # Round 1 is heavy once and runs again; round 2 is clean (order b, a); round 3 stays heavy.
    assert order == ["a", "b", "a", "b", "b", "a", "a", "b", "a", "b", "a", "b"], order
    assert res["heavy"] == [False, False, True] and res["repeated"] == 3 and res["used"] == [0, 1], res
    assert ratios(res, "b", "a") == [2.0, 2.0] and used(res, "a") == [1.0, 1.0]
    assert "2 used" in summary_line(res) and "1 still heavy" in summary_line(res), summary_line(res)
    # A probe: round 1 ran at 80 (the fastest so far: clean at the time), round 2 at 63 (heavy at
    # once), round 3 at 100, after which round 1 is judged heavy too.
    speeds = iter([80, 80, 80, 80, 63, 63, 63, 63, 100, 100, 100, 100])
    probe = Probe(lambda: float(next(speeds)))

    def probed(call, side, probe):
        return measured(call, side, probe=probe)
    res = new_result(["a", "b"])
    for r in range(3):
        one_round(res, r, lambda s: 1.0, retries=0, measure=probed, probe=probe)
    assert res["heavy"] == [False, True, False], res["heavy"]    # 63 < 85 % of 80 at the time
    assert [n["probe"] for n in res["noise"]["a"]] == [80.0, 63.0, 100.0], res["noise"]["a"]
    finish(res)
    assert probe.best == 100.0 and res["heavy"] == [True, True, False] and res["used"] == [2], (probe.best, res)
    assert "fastest of the session 100" in summary_line(res), summary_line(res)
    assert heavy({"probe": 84.0}, probe_best=100.0) and not heavy({"probe": 85.0}, probe_best=100.0)
    assert not heavy({"probe": 10.0}, probe_best=None)
    t = cpu_times()
    assert t is None or (t[2] >= t[0] >= 0 and t[1] >= 0), t
    print("noise.py self-test: ok")


if __name__ == "__main__":
    _selftest()
