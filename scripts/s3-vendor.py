#!/usr/bin/python3
"""s3-vendor.py [--check] - the S3 server the tests run (s3rver), pinned.

tests/s3/package-lock.json (npm's lockfile, version 3, made once with
`npm install --omit-lockfile-registry-resolved=false` from
tests/s3/package.json) names every package of s3rver's tree with its
tarball URL on the npm registry and its sha512 integrity. Without
--check (run by `make deps`; needs the network once) each tarball is
downloaded with curl, as scripts/web-vendor.sh does for xterm.js, into
tests/s3/vendor/ unless a file with the right hash is already there, its
sha512 checked against the lock, and unpacked into
tests/s3/node_modules/ where the lock puts it. With --check (run by
scripts/s3-server.sh before it starts the server; offline) every
tarball's hash is checked again and node_modules/ is rebuilt if a
package's stamp does not name the locked integrity. A hash that does not
match is fatal: nothing of that package is unpacked. npm itself is not
needed (Debian 12's nodejs runs the server); $S3_VENDOR_REGISTRY replaces
https://registry.npmjs.org/ in the URLs (a mirror).
"""
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "s3")
LOCK = os.path.join(ROOT, "package-lock.json")
VENDOR = os.path.join(ROOT, "vendor")
MODULES = os.path.join(ROOT, "node_modules")
NPM = "https://registry.npmjs.org/"
STAMP = ".bastion-integrity"


def die(msg):
    print("s3-vendor: " + msg, file=sys.stderr)
    sys.exit(1)


def integrity(path):
    h = hashlib.sha512()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return "sha512-" + base64.b64encode(h.digest()).decode()


def packages():
    with open(LOCK, encoding="utf-8") as f:
        lock = json.load(f)
    if lock.get("lockfileVersion") != 3:
        die("%s: lockfileVersion 3 expected" % LOCK)
    out = []
    for where, p in sorted(lock["packages"].items()):
        if where == "":
            continue
        if not where.startswith("node_modules/") or ".." in where.split("/"):
            die("%s: odd package path %r" % (LOCK, where))
        url, sha = p.get("resolved"), p.get("integrity", "")
        if not url or not url.startswith(NPM) or not sha.startswith("sha512-"):
            die("%s: %s has no npm registry URL or sha512 integrity" % (LOCK, where))
        out.append((where, url, sha))
    return out


def tarball(url):
    return os.path.join(VENDOR, url[len(NPM):].replace("/", "_"))


def fetch(url, sha):
    tgz = tarball(url)
    if os.path.exists(tgz) and integrity(tgz) == sha:
        return
    mirror = os.environ.get("S3_VENDOR_REGISTRY")
    src = (mirror.rstrip("/") + "/" + url[len(NPM):]) if mirror else url
    subprocess.run(["curl", "--fail", "--silent", "--show-error", "--location",
                    "--proto", "=https", "--max-time", "120", "-o", tgz + ".part",
                    src], check=True)
    got = integrity(tgz + ".part")
    if got != sha:
        os.unlink(tgz + ".part")
        die("%s: integrity %s, expected %s (tests/s3/package-lock.json): refusing"
            % (url, got, sha))
    os.replace(tgz + ".part", tgz)


def unpack(where, url, sha):
    """Unpack the checked tarball into node_modules/... (its first path
    component, "package/" in npm's tarballs, dropped); regular files and
    directories only, nothing outside the package's directory."""
    dest = os.path.join(ROOT, where)
    stamp = os.path.join(dest, STAMP)
    if os.path.exists(stamp) and open(stamp).read() == sha:
        return
    tgz = tarball(url)
    if not os.path.exists(tgz):
        die("%s missing: run make deps (or scripts/s3-vendor.py) once with "
            "the network" % tgz)
    if integrity(tgz) != sha:
        die("%s: integrity does not match tests/s3/package-lock.json: refusing" % tgz)
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    with tarfile.open(tgz, "r:gz") as t:
        for m in t.getmembers():
            parts = m.name.split("/")[1:]
            if not parts or any(p in ("", ".", "..") for p in parts):
                continue
            if not (m.isfile() or m.isdir()):
                continue
            target = os.path.join(dest, *parts)
            if m.isdir():
                os.makedirs(target, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with t.extractfile(m) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
            os.chmod(target, 0o755 if m.mode & 0o100 else 0o644)
    with open(stamp, "w") as f:
        f.write(sha)


def main():
    check = sys.argv[1:] == ["--check"]
    if sys.argv[1:] and not check:
        die("usage: s3-vendor.py [--check]")
    os.makedirs(VENDOR, exist_ok=True)
    pkgs = packages()
    if not check:
        for where, url, sha in pkgs:
            fetch(url, sha)
    # nested packages (a/node_modules/b) after their parents: sorted paths
    for where, url, sha in sorted(pkgs, key=lambda p: p[0].count("/")):
        unpack(where, url, sha)
    print("s3-vendor: s3rver and %d packages checked" % (len(pkgs) - 1))


if __name__ == "__main__":
    main()
