#!/usr/bin/env -S /usr/bin/python3
"""make bench: azconjur's performance figures, side by side, as ratios.

Every comparison runs its contenders interleaved in one process, on the
same machine, against the same emulators on loopback, so the ratios hold
even when the absolute times drift.  Wall times are medians; memory is the
peak resident set reported by wait4(); instruction counts come from
callgrind, which does not depend on machine load.

usage: bench.py [--quick] [--out docs/benchmarks.md]
"""
import argparse
import datetime
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)

from tests.emulators.client import Emulators  # noqa: E402

AZCONJUR = os.path.abspath(os.environ.get("AZCONJUR", os.path.join(REPO, "build/azconjur")))
FLOOR = os.path.abspath(os.environ.get("FLOOR", os.path.join(REPO, "build/bench/floor")))
PEAKRSS = os.path.abspath(os.environ.get("PEAKRSS", os.path.join(REPO, "build/bench/peakrss")))
NODE_DIR = os.path.join(HERE, "node")

TARGETS = {
    "startup": 1.3,        # azconjur start-up / floor, at most
    "rss": 1.25,           # azconjur peak RSS reading 1,000 secrets / floor, at most
    "node": 25.0,          # @azure/identity wall / azconjur wall, at least
    "requests": 10.0,      # per-process requests / one-run requests, at least
    "wall": 5.0,           # per-process wall / one-run wall, at least
}


# ---- running things ---------------------------------------------------------

class Run:
    """One process: wall seconds, peak RSS in KiB, exit status, stdout."""

    def __init__(self, wall, rss_kib, status, stdout):
        self.wall, self.rss_kib, self.status, self.stdout = wall, rss_kib, status, stdout


def run_measured(argv, env, stdin=None):
    """Run argv under peakrss: wall time and peak RSS of that process alone."""
    with tempfile.NamedTemporaryFile("r") as figures:
        proc = subprocess.run([PEAKRSS, figures.name, *argv], env=env, input=stdin,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if proc.returncode != 0:
            raise RuntimeError("%s exited with %d: %s" % (
                " ".join(argv), proc.returncode, proc.stderr.decode(errors="replace")[-400:]))
        wall_ns, rss_kib = figures.read().split()
    return Run(int(wall_ns) / 1e9, int(rss_kib), 0, proc.stdout)


def interleaved(contenders, runs, env):
    """Run each (name, argv) `runs` times, interleaved; return name -> [Run]."""
    results = {name: [] for name, _ in contenders}
    for _ in range(runs):
        for name, argv in contenders:
            results[name].append(run_measured(argv, env))
    return results


def median_wall(runs):
    return statistics.median(r.wall for r in runs)


def median_rss(runs):
    return statistics.median(r.rss_kib for r in runs)


def callgrind_instructions(argv, env):
    """Total instructions executed (Ir), from callgrind's summary line."""
    if not shutil.which("valgrind"):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        proc = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
                               *argv], env=env, capture_output=True, timeout=600)
        match = re.search(rb"Collected\s*:\s*(\d+)", proc.stderr)
        return int(match.group(1)) if match and proc.returncode == 0 else None


# ---- the benchmarks --------------------------------------------------------------

def bench_startup(env, runs):
    script = os.path.join(HERE, "scripts/first-line.lua")
    contenders = [("floor", [FLOOR]), ("azconjur", [AZCONJUR, "run", script])]
    lua = shutil.which("lua5.4")
    if lua:
        contenders.append(("lua5.4", [lua, "-e", "io.write('ready\\n')"]))
    results = interleaved(contenders, runs, env)
    rows = {name: (median_wall(r), median_rss(r)) for name, r in results.items()}
    ir = {name: callgrind_instructions(argv, env) for name, argv in contenders[:2]}
    return rows, ir


def install_node_identity():
    """npm-install @azure/identity into bench/node once; False if impossible."""
    if os.path.isdir(os.path.join(NODE_DIR, "node_modules/@azure/identity")):
        return True
    if not shutil.which("npm"):
        return False
    proc = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent"],
                          cwd=NODE_DIR, capture_output=True, timeout=300)
    return proc.returncode == 0


def bench_token(emu, env, runs):
    script = os.path.join(HERE, "scripts/token.lua")
    contenders = [("azconjur", [AZCONJUR, "run", script])]
    node = shutil.which("node")
    if node and install_node_identity():
        contenders.append(("@azure/identity", [node, os.path.join(NODE_DIR, "token.js")]))
    emu.reset()
    results = interleaved(contenders, runs, env)
    return {name: median_wall(r) for name, r in results.items()}


def floor_with_tls(env):
    """Peak RSS of the floor making one verified HTTPS request to Conjur."""
    argv = [FLOOR, env["CONJUR_APPLIANCE_URL"] + "/", env["CONJUR_CERT_FILE"]]
    return median_rss([run_measured(argv, env) for _ in range(9)])


def request_total(counts):
    return sum(v for k, v in counts.items() if k in ("imds", "authn_azure", "secret", "batch"))


def bench_reads(emu, env, n, runs):
    """One run reading n secrets, against one `provider ID` process per secret."""
    script = os.path.join(HERE, "scripts/read.lua")
    one_run = []
    for _ in range(runs):
        emu.reset()
        one_run.append(run_measured([AZCONJUR, "run", script, str(n)], env))
    counts_one = emu.counts()

    per_process_walls = []
    emu.reset()
    per_runs = 1 if n >= 100 else runs
    for _ in range(per_runs):
        started = time.perf_counter()
        for i in range(1, n + 1):
            run_measured([AZCONJUR, "provider", "bench/secret-%d" % i], env)
        per_process_walls.append(time.perf_counter() - started)
    counts_per = emu.counts()

    return {
        "n": n,
        "wall": median_wall(one_run),
        "rss": median_rss(one_run),
        "requests": request_total(counts_one),
        "counts": counts_one,
        "per_wall": statistics.median(per_process_walls),
        "per_requests": request_total(counts_per) // per_runs,
    }


# ---- report -----------------------------------------------------------------

NOTES = """## Reading the figures

- **The floor** (`bench/floor.c`) links Lua, libcurl and OpenSSL, initialises
  them and exits. Most of its start-up is the dynamic loader relocating
  libcurl's many dependencies (Debian's libcurl also pulls in GnuTLS, LDAP,
  Kerberos, SSH and RTMP libraries); azconjur pays exactly the same, which
  is why the two start-ups are so close.
- **Peak RSS** is measured by `bench/peakrss.c`, which forks the program
  itself: a child forked from the Python driver would inherit the driver's
  resident pages into its `ru_maxrss`.
- **What the 1,000-secret run adds over the floor** is mostly the first TLS
  connection, not the secrets: compare the 1-secret row. A TLS 1.3
  handshake with certificate verification touches about 1.3 MiB of
  libcrypto and libssl code pages and a few hundred KiB of OpenSSL heap
  (provider and algorithm tables, the CA store) that the floor never uses.
  The secrets themselves cost about 150 KiB of Lua heap for 1,000 values.
  The target is stated against
  the bare floor and is reported as measured; beside it stands the ratio to
  the same floor after one verified HTTPS request to the Conjur emulator
  (`floor URL CAFILE`), which isolates what azconjur itself adds.
- **@azure/identity** is pinned in `bench/node/package.json` and installed
  by npm into `bench/node/node_modules` on the first run. Both contenders
  ask the same IMDS emulator, so the ratio is start-up plus one request on
  each side; Node.js start-up is most of the difference.
- **One process per secret** is summon's legacy-provider pattern, driven
  with azconjur's own `provider ID`: each process gets a platform token,
  authenticates and reads one secret (3 requests per secret).
"""

def machine():
    cpu = "unknown cpu"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%s, %d cores, %s %s" % (cpu, os.cpu_count() or 0, platform.system(),
                                    platform.release())


def verdict(ok):
    return "meets target" if ok else "**misses target**"


def render(startup, ir, token, reads, args):
    lines = []
    out = lines.append
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out("# Benchmarks\n")
    out("Produced by `make bench` (`bench/run`) on %s, %s." % (now, machine()))
    out("Contenders run interleaved in one run against the bundled emulators on")
    out("loopback; times are medians, memory is peak RSS from `wait4`.\n")

    floor_wall, floor_rss = startup["floor"]
    az_wall, az_rss = startup["azconjur"]
    out("## Start-up to the first line of a script\n")
    out("| program | median wall | peak RSS | instructions (callgrind) |")
    out("| --- | --- | --- | --- |")
    for name, (wall, rss) in startup.items():
        count = ir.get(name)
        out("| %s | %.2f ms | %d KiB | %s |" % (name, wall * 1000, rss,
                                                "{:,}".format(count) if count else "-"))
    ratio = az_wall / floor_wall
    out("\nazconjur / floor: **%.2fx** wall (target at most %.2fx: %s)" % (
        ratio, TARGETS["startup"], verdict(ratio <= TARGETS["startup"])))
    if ir.get("floor") and ir.get("azconjur"):
        out("; **%.2fx** instructions." % (ir["azconjur"] / ir["floor"]))
    out("")

    out("## Platform token and exit\n")
    out("| program | median wall |")
    out("| --- | --- |")
    for name, wall in token.items():
        out("| %s | %.1f ms |" % (name, wall * 1000))
    if "@azure/identity" in token:
        ratio = token["@azure/identity"] / token["azconjur"]
        out("\n@azure/identity / azconjur: **%.1fx** (target at least %.0fx: %s)\n" % (
            ratio, TARGETS["node"], verdict(ratio >= TARGETS["node"])))
    else:
        out("\n@azure/identity could not be installed (npm); no ratio.\n")

    out("## Reading secrets\n")
    out("| secrets | one run: wall | requests | peak RSS | one process per secret: wall "
        "| requests | wall ratio | request ratio |")
    out("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in reads:
        out("| %d | %.1f ms | %d | %d KiB | %.1f ms | %d | %.1fx | %.1fx |" % (
            r["n"], r["wall"] * 1000, r["requests"], r["rss"], r["per_wall"] * 1000,
            r["per_requests"], r["per_wall"] / r["wall"],
            r["per_requests"] / max(r["requests"], 1)))
    out("")
    for r in reads:
        if r["n"] in (10, 100):
            limit = 3 if r["n"] == 10 else 4
            out("- %d secrets: %d requests (target %s %d: %s)" % (
                r["n"], r["requests"], "exactly" if r["n"] == 10 else "at most", limit,
                verdict(r["requests"] == limit if r["n"] == 10 else r["requests"] <= limit)))
    big = [r for r in reads if r["n"] == 1000]
    if big:
        ratio = big[0]["rss"] / floor_rss
        out("- 1,000 secrets: peak RSS %.2fx the floor's (target at most %.2fx: %s); "
            "%.2fx the floor's after one HTTPS request (%d KiB)" % (
                ratio, TARGETS["rss"], verdict(ratio <= TARGETS["rss"]),
                big[0]["rss"] / args.floor_tls_rss, args.floor_tls_rss))
    hundred = [r for r in reads if r["n"] == 100]
    if hundred:
        h = hundred[0]
        rq = h["per_requests"] / max(h["requests"], 1)
        wl = h["per_wall"] / h["wall"]
        out("- 100 secrets against one process per secret: %.1fx fewer requests (target %.0fx: "
            "%s), %.1fx less wall time (target %.0fx: %s)" % (
                rq, TARGETS["requests"], verdict(rq >= TARGETS["requests"]), wl,
                TARGETS["wall"], verdict(wl >= TARGETS["wall"])))
    out("")
    if args.callgrind_100 is not None:
        out("Instructions for the 100-secret run (callgrind, client side only): **{:,}**.\n"
            .format(args.callgrind_100))
    out("![wall time and requests against the number of secrets](benchmarks.png)\n")
    out(NOTES)
    return "\n".join(lines)


def plot(reads, path):
    if not shutil.which("gnuplot"):
        return False
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "reads.dat")
        with open(data, "w") as f:
            for r in reads:
                f.write("%d %.3f %.3f %d %d\n" % (r["n"], r["wall"] * 1000, r["per_wall"] * 1000,
                                                  r["requests"], r["per_requests"]))
        script = """
set terminal pngcairo size 900,420 font ",10"
set output '%s'
set multiplot layout 1,2
set logscale xy
set xlabel 'secrets read'
set key top left
set title 'wall time (ms)'
plot '%s' using 1:2 with linespoints title 'azconjur, one run', \\
     '' using 1:3 with linespoints title 'one process per secret'
set title 'requests to the emulators'
plot '%s' using 1:4 with linespoints title 'azconjur, one run', \\
     '' using 1:5 with linespoints title 'one process per secret'
unset multiplot
""" % (path, data, data)
        proc = subprocess.run(["gnuplot"], input=script.encode(), capture_output=True)
        return proc.returncode == 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--out", default=os.path.join(REPO, "docs/benchmarks.md"))
    args = parser.parse_args()
    runs = 5 if args.quick else 21

    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CONJUR_", "AZURE_", "IDENTITY_", "MSI_", "IMDS_"))}
    print("bench: start-up (%d runs each)" % (runs * 4), flush=True)
    startup, ir = bench_startup(env, runs * 4)

    with Emulators() as emu:
        env.update(emu.env)
        print("bench: platform token", flush=True)
        token = bench_token(emu, env, runs)
        reads = []
        for n in (1, 10, 100, 1000):
            print("bench: reading %d secrets" % n, flush=True)
            reads.append(bench_reads(emu, env, n, max(3, runs // 3)))
        args.floor_tls_rss = floor_with_tls(env)
        print("bench: callgrind, 100 secrets", flush=True)
        args.callgrind_100 = callgrind_instructions(
            [AZCONJUR, "run", os.path.join(HERE, "scripts/read.lua"), "100"], env)

    report = render(startup, ir, token, reads, args)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(report)
    plotted = plot(reads, os.path.join(os.path.dirname(args.out), "benchmarks.png"))
    print(report)
    print("\nbench: wrote %s%s" % (args.out, " and benchmarks.png" if plotted else
                                   " (gnuplot missing: no plot)"))


if __name__ == "__main__":
    main()
