"""Shared helpers for the benchmarks: paths, environment, timing, a table printer."""
import json
import os
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATE = os.environ.get("QI_STATE_DIR") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "qi-convergence")
KUBECONFIG = os.path.join(STATE, "cluster", "etc", "admin.kubeconfig")
VENV_BIN = os.path.join(ROOT, ".venv", "bin")
ENV = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), QI_STATE_DIR=STATE,
           PATH=VENV_BIN + ":" + os.environ["PATH"], ANSIBLE_NOCOLOR="1")

# A benchmark stopped with SIGTERM still runs its clean-up (`finally`): its registry and namespaces go with it.
signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def run(cmd, **kw):
    res = subprocess.run(cmd, cwd=kw.pop("cwd", ROOT), env=kw.pop("env", ENV), capture_output=True, text=True, check=False, **kw)
    if res.returncode != 0:
        raise SystemExit("%s failed:\n%s\n%s" % (" ".join(cmd), res.stdout[-3000:], res.stderr[-3000:]))
    return res


def timed(cmd, **kw):
    start = time.monotonic()
    res = run(cmd, **kw)
    return time.monotonic() - start, res


def table(title, header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    print("\n" + title)
    for r in [header, ["-" * w for w in widths]] + rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))


def kubectl_bin():
    k8s = os.path.join(STATE, "k8s")
    return os.path.join(k8s, sorted(os.listdir(k8s))[-1], "bin", "kubectl")


def median_cell(samples, digits=2):
    """'median (min-max)' of samples: the figure published, with its spread."""
    ordered = sorted(samples)
    mid = ordered[len(ordered) // 2] if len(ordered) % 2 else sum(ordered[len(ordered) // 2 - 1:][:2]) / 2
    fmt = "%%.%df" % digits
    return (fmt + " (" + fmt + "-" + fmt + ")") % (mid, ordered[0], ordered[-1]), mid


def machine_check(allow_noisy):
    """Print the core count and load average; refuse to go on (return False) when the load average is above the
    core count (a noisy neighbour would skew every ratio), unless allow_noisy."""
    cores = os.cpu_count() or 1
    load = os.getloadavg()
    print("machine: %d cores, load average %.2f %.2f %.2f" % ((cores,) + load), flush=True)
    if load[0] > cores and not allow_noisy:
        print("the 1-minute load average %.2f is above the %d cores: not a quiet machine, no ratios reported "
              "(wait, or pass --noisy to report anyway)" % (load[0], cores))
        return False
    return True


def write_results(out_dir, name, lines, header, rows, settings):
    """NAME.jsonl (one line per sample) and NAME.md (the table and its settings) in out_dir."""
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, name + ".jsonl"), "w") as f:
        f.writelines(json.dumps(line) + "\n" for line in lines)
    with open(os.path.join(out_dir, name + ".md"), "w") as f:
        f.write("| " + " | ".join(header) + " |\n|" + "---|" * len(header) + "\n")
        f.writelines("| " + " | ".join(str(c) for c in r) + " |\n" for r in rows)
        f.write("\n" + settings + "\n")
