"""How small an app's image can get: its runtime alone, assembled from a built image, run and asked over HTTP.

    .venv/bin/python benchmarks/runtime_floor.py IMAGE --path /healthz [--keep]

A measurement of the floor, beside what the build's runtime-only images (.qi.yml build.runtime_only) keep. From IMAGE
(e.g. nodejs-hello as `make demo` built it) it keeps only what the app's command needs at run time: the
command's executable and the shared libraries it loads (ldd, with the symlinks they are reached by), native
addons under the working dir and their libraries, the working dir itself (the app and its production
dependencies), /bin/sh (child_process.exec needs it), the users and groups, the CA bundle, /tmp. The result is
imported as an image with IMAGE's command, user, working dir, environment and port, and a health check run by
node instead of python3 (not there any more). Both images are started on loopback; the run passes only when the
small one answers PATH as IMAGE does. Prints both sizes and their ratio.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

# Runs in a container of IMAGE as root; prints the list of paths to keep, one per line ('=' marks a folder kept
# whole; the others are kept as they are, a symlink as a symlink).
CLOSURE = r"""
keep() { [ -e "$1" ] || [ -L "$1" ] || return 0; echo "$1"; }
libs() {
  ldd "$1" 2>/dev/null | awk '/=>/ {print $3} /^[[:space:]]*\// {print $1}' | while read -r lib; do
    [ -n "$lib" ] || continue
    real=$(readlink -f "$lib"); keep "$real"
    for link in "$(dirname "$real")"/*; do
      [ -L "$link" ] && [ "$(readlink -f "$link")" = "$real" ] && keep "$link"
    done
  done
}
for top in /bin /sbin /lib /lib64; do [ -L "$top" ] && keep "$top"; done
keep /usr/lib64/ld-linux-x86-64.so.2
exe=$(command -v "$1"); keep "$exe"; real=$(readlink -f "$exe"); keep "$real"; libs "$real"
sh=$(readlink -f /bin/sh); keep /usr/bin/sh; keep "$sh"; libs "$sh"
echo "=$2"
find "$2" -name '*.node' -type f | while read -r addon; do libs "$addon"; done
for f in /etc/passwd /etc/group /etc/nsswitch.conf /etc/ssl/certs/ca-certificates.crt; do keep "$f"; done
keep /tmp
"""


def docker(*args, **kw):
    res = subprocess.run(["docker"] + list(args), check=False, capture_output=True, **kw)
    if res.returncode != 0:
        raise SystemExit("docker %s failed: %s" % (args[0], res.stderr))
    return res


def config(image):
    return json.loads(docker("image", "inspect", image).stdout)[0]


def size_mb(image):
    return config(image)["Size"] / 1e6


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ask(port, path, seconds=60):
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=3) as r:
                return r.status, r.read().decode(errors="replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")
        except OSError as e:
            if time.monotonic() > deadline:
                return None, str(e)
            time.sleep(0.5)


def assemble(image, out_tar):
    cfg = config(image)["Config"]
    workdir = cfg.get("WorkingDir") or "/"
    listing = docker("run", "--rm", "--user", "root", "--entrypoint", "sh", image, "-c", CLOSURE, "closure",
                     cfg["Cmd"][0], workdir, text=True).stdout.split("\n")
    listing = [p for p in listing if p]
    flat = [p for p in listing if not p.startswith("=")]
    whole = [p[1:] for p in listing if p.startswith("=")]
    script = ("tar -c --no-recursion -f /qi-floor.tar %s 2>/dev/null && tar -r -f /qi-floor.tar %s 2>/dev/null"
              " && cat /qi-floor.tar" % (" ".join(sorted(set(flat))), " ".join(whole)))
    with open(out_tar, "wb") as f:
        subprocess.run(["docker", "run", "--rm", "--user", "root", "--entrypoint", "sh", image, "-c", script],
                       stdout=f, check=True)
    return cfg


def import_small(cfg, tar, tag, port):
    changes = ["CMD %s" % json.dumps(cfg["Cmd"]), "USER %s" % (cfg.get("User") or "root"),
               "WORKDIR %s" % (cfg.get("WorkingDir") or "/")]
    changes += ["ENV %s=%s" % (e.split("=", 1)[0], json.dumps(e.split("=", 1)[1])) for e in cfg.get("Env") or []]
    changes += ["EXPOSE %s" % p for p in cfg.get("ExposedPorts") or {}]
    if port:
        probe = ("require('http').get('http://127.0.0.1:%d/',function(r){process.exit(r.statusCode<500?0:1)})"
                 ".on('error',function(){process.exit(1)})" % port)
        changes.append("HEALTHCHECK --interval=10s CMD %s" % json.dumps(["node", "-e", probe]))
    args = ["import"] + [a for c in changes for a in ("-c", c)] + [tar, tag]
    docker(*args)


def serve(image, port, path):
    host = free_port()
    name = "qi-floor-%d" % host
    docker("run", "-d", "--name", name, "-p", "127.0.0.1:%d:%d" % (host, port), image)
    try:
        status, text = ask(host, path)
        if status is None:
            text += "\n" + subprocess.run(["docker", "logs", "--tail", "20", name], capture_output=True, text=True,
                                          check=False).stderr
        return status, text
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("image")
    ap.add_argument("--path", default="/")
    ap.add_argument("--keep", action="store_true", help="keep the small image (tagged qi-runtime-floor:latest)")
    args = ap.parse_args()
    tag = "qi-runtime-floor:latest"
    with tempfile.TemporaryDirectory() as tmp:
        tar = os.path.join(tmp, "rootfs.tar")
        cfg = assemble(args.image, tar)
        ports = [int(p.split("/")[0]) for p in cfg.get("ExposedPorts") or {}]
        port = ports[0] if ports else None
        import_small(cfg, tar, tag, port)
    try:
        if port:
            big, small = serve(args.image, port, args.path), serve(tag, port, args.path)
            print("GET %s: %s answered %s, the runtime alone %s" % (args.path, args.image, big[0], small[0]))
            if small[0] != big[0]:
                print(small[1][:500])
                return 1
        big_mb, small_mb = size_mb(args.image), size_mb(tag)
        print("%-48s %8.1f MB" % (args.image, big_mb))
        print("%-48s %8.1f MB  %.3fx" % ("its runtime alone", small_mb, small_mb / big_mb))
        return 0
    finally:
        if not args.keep:
            subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, check=False)


if __name__ == "__main__":
    sys.exit(main())
