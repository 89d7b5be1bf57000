#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Generate good and hostile ACIs for the extractor tests.

    mkaci.py PRESET OUT [--compress none|gz|bz2|xz|zst] [--target PATH] [--n N]
    mkaci.py --json ENTRIES OUT [--compress ...]
    mkaci.py --list

PRESET names a test archive (see --list). --target is the path a hostile archive aims at (the
sentinel outside the destination); --n sizes the resource presets. --json takes a list of
entries: {"type": "file|dir|symlink|hardlink|chr|blk|fifo", "name": ..., "data": ...,
"link": ..., "mode": ..., "uid": ..., "gid": ..., "zeros": N, "xattrs": {...}, "pax": {...}}.
The uncompressed tar is also written to OUT.tar when --keep-tar is given (for sha512sum).
"""
import argparse
import bz2
import gzip
import io
import json
import lzma
import os
import subprocess
import sys
import tarfile
import zipfile

MANIFEST = (b'{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/test",'
            b'"labels":[{"name":"os","value":"linux"},{"name":"arch","value":"amd64"}]}')
MTIME = 1500000000


class Zeros(io.RawIOBase):
    """n zero bytes without holding them in memory (decompression bombs)."""

    def __init__(self, n):
        self.left = n

    def readable(self):
        return True

    def readinto(self, b):
        k = min(len(b), self.left)
        b[:k] = bytes(k)
        self.left -= k
        return k


def E(type_, name, **kw):
    return dict(type=type_, name=name, **kw)


def manifest(data=MANIFEST):
    return E("file", "manifest", data=data, mode=0o644)


def base():
    return [E("dir", "rootfs")]


def add(t, e):
    ti = tarfile.TarInfo(e["name"])
    ti.mtime = e.get("mtime", MTIME)
    ti.uid, ti.gid = e.get("uid", 0), e.get("gid", 0)
    ti.uname = ti.gname = "root"
    data = e.get("data", b"")
    if isinstance(data, str):
        data = data.encode()
    fobj = io.BytesIO(data) if data else None
    typ = e["type"]
    if typ == "file":
        ti.type, mode = tarfile.REGTYPE, 0o644
        ti.size = len(data)
        if "zeros" in e:
            ti.size, fobj = e["zeros"], Zeros(e["zeros"])
    elif typ == "dir":
        ti.type, mode = tarfile.DIRTYPE, 0o755
    elif typ == "symlink":
        ti.type, mode, ti.linkname = tarfile.SYMTYPE, 0o777, e["link"]
    elif typ == "hardlink":
        ti.type, mode, ti.linkname = tarfile.LNKTYPE, 0o644, e["link"]
        ti.size = len(data)  # a hard link with data is itself hostile
        if data:  # libarchive honours the size of a hard link only from a pax header
            e.setdefault("pax", {})["size"] = str(len(data))
    elif typ in ("chr", "blk"):
        ti.type = tarfile.CHRTYPE if typ == "chr" else tarfile.BLKTYPE
        mode, ti.devmajor, ti.devminor = 0o600, e.get("major", 8), e.get("minor", 0)
    elif typ == "fifo":
        ti.type, mode = tarfile.FIFOTYPE, 0o644
    else:
        raise SystemExit("mkaci: unknown entry type " + typ)
    ti.mode = e.get("mode", mode)
    pax = dict(e.get("pax", {}))
    for k, v in e.get("xattrs", {}).items():
        if isinstance(v, bytes):
            v = v.decode("utf-8", "surrogateescape")
        pax["SCHILY.xattr." + k] = v
    ti.pax_headers = pax
    t.addfile(ti, fobj)


def build_tar(entries, fmt=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt, encoding="utf-8",
                      errors="surrogateescape") as t:
        for e in entries:
            add(t, e)
    return buf.getvalue()


def compress(data, how):
    if how in (None, "none"):
        return data
    if how == "gz":
        return gzip.compress(data, mtime=0)
    if how == "bz2":
        return bz2.compress(data)
    if how == "xz":
        return lzma.compress(data)
    if how == "zst":
        return subprocess.run(["zstd", "-q", "-c"], input=data, stdout=subprocess.PIPE,
                              check=True).stdout
    raise SystemExit("mkaci: unknown compression " + how)


# ---- presets: each returns (entries or raw bytes) ----

def good(a):
    return base() + [
        E("dir", "rootfs/bin"),
        E("file", "rootfs/bin/hello", data="#!/bin/sh\necho hello\n", mode=0o755),
        E("symlink", "rootfs/bin/sh", link="hello"),
        E("hardlink", "rootfs/bin/hello2", link="rootfs/bin/hello"),
        E("dir", "rootfs/etc", mode=0o750, mtime=1234567890),
        E("file", "rootfs/etc/passwd", data="root:x:0:0::/:/bin/sh\n", uid=0),
        E("file", "rootfs/etc/owned", data="x", uid=1234, gid=5678, mode=0o600),
        E("symlink", "rootfs/abs", link="/etc/passwd"),
        E("symlink", "rootfs/up", link="../../../../etc"),
        E("dir", "rootfs/tmp", mode=0o1777),
        E("file", "rootfs/caf\u00e9", data="utf-8 name"),
        E("file", "rootfs/deep/er/file", data="implicit parents"),
    ] + [manifest()]  # appc's builder writes the manifest last


def target(a):
    if not a.target:
        raise SystemExit("mkaci: this preset needs --target")
    return a.target


def dotdot(a):
    # dest/rootfs/../../NAME is the sentinel beside dest
    name = os.path.basename(a.target) if a.target else "sentinel"
    return [manifest()] + base() + [E("file", "rootfs/../../" + name, data="pwned\n")]


def dotdot_mid(a):
    name = os.path.basename(a.target) if a.target else "sentinel"
    return [manifest()] + base() + [E("dir", "rootfs/a"),
                                    E("file", "rootfs/a/../../../" + name, data="pwned\n")]


def absolute(a):
    return [manifest()] + base() + [E("file", target(a), data="pwned\n")]


def symlink_dir(a):
    t = target(a)
    return [manifest()] + base() + [
        E("symlink", "rootfs/evil", link=os.path.dirname(t)),
        E("file", "rootfs/evil/" + os.path.basename(t), data="pwned\n")]


def symlink_dir_rel(a):
    # dest/rootfs/evil -> ../.. is the directory holding dest (and the sentinel)
    return [manifest()] + base() + [
        E("symlink", "rootfs/evil", link="../.."),
        E("file", "rootfs/evil/" + os.path.basename(target(a)), data="pwned\n")]


def symlink_dot(a):
    # umoci CVE-2021-29136: a symlink named "." (here rootfs/sub/.) redirects what follows
    t = target(a)
    return [manifest()] + base() + [
        E("dir", "rootfs/sub"),
        E("symlink", "rootfs/sub/.", link=os.path.dirname(t)),
        E("file", "rootfs/sub/" + os.path.basename(t), data="pwned\n")]


def symlink_leaf(a):
    return [manifest()] + base() + [E("symlink", "rootfs/x", link=target(a)),
                                    E("file", "rootfs/x", data="pwned\n")]


def hardlink_abs(a):
    return [manifest()] + base() + [E("hardlink", "rootfs/h", link=target(a), data="pwned\n")]


def hardlink_abs_nodata(a):
    return [manifest()] + base() + [E("hardlink", "rootfs/h", link=target(a))]


def hardlink_dotdot(a):
    return [manifest()] + base() + [E("hardlink", "rootfs/h", link="rootfs/../../sentinel")]


def hardlink_symlink(a):
    return [manifest()] + base() + [E("symlink", "rootfs/l", link=target(a)),
                                    E("hardlink", "rootfs/h", link="rootfs/l")]


def hardlink_preexisting(a):
    return [manifest()] + base() + [E("hardlink", "rootfs/h", link="rootfs/pre")]


def fixup_symlink(a):
    # libarchive 2021 fixup CVEs: directory entry, then a symlink of the same name; a deferred
    # chmod/utime by path would land on the symlink's target
    return [manifest()] + base() + [
        E("dir", "rootfs/d", mode=0o777, mtime=0),
        E("symlink", "rootfs/d", link=os.path.dirname(target(a)))]


def device(a):
    return [manifest()] + base() + [E("blk", "rootfs/sda", major=8, minor=0)]


def chardev(a):
    return [manifest()] + base() + [E("chr", "rootfs/mem", major=1, minor=1)]


def fifo(a):
    return [manifest()] + base() + [E("fifo", "rootfs/fifo")]


def setid(a):
    return [manifest()] + base() + [
        E("file", "rootfs/suid", data="x", mode=0o4755),
        E("file", "rootfs/sgid", data="x", mode=0o2755),
        E("dir", "rootfs/sgiddir", mode=0o2775),
        E("dir", "rootfs/sticky", mode=0o1777)]


CAP = bytes.fromhex("0000000200200000000000000000000000000000")  # vfs cap v2: cap_sys_admin


def xattrs(a):
    return [manifest()] + base() + [
        E("file", "rootfs/x", data="x", xattrs={
            "security.capability": CAP, "trusted.evil": "t", "security.selinux":
            "system_u:object_r:shadow_t:s0", "system.posix_acl_access": b"\x02\0\0\0",
            "user.ok": "yes"})]


def dup(a):
    return [manifest()] + base() + [E("file", "rootfs/a", data="1"),
                                    E("file", "rootfs/a", data="2")]


def dup_dot(a):
    return [manifest()] + base() + [E("file", "rootfs/a", data="1"),
                                    E("file", "./rootfs/a", data="2")]


def dup_manifest(a):
    return [manifest()] + base() + [manifest()]


def toplevel(a):
    return [manifest()] + base() + [E("file", "rootfs-evil/x", data="x")]


def toplevel_etc(a):
    return [manifest()] + base() + [E("file", "etc/passwd", data="x")]


def no_manifest(a):
    return base() + [E("file", "rootfs/a", data="x")]


def no_rootfs(a):
    return [manifest()]


def manifest_symlink(a):
    return [E("symlink", "manifest", link=target(a))] + base()


def bomb(a):
    return [manifest()] + base() + [E("file", "rootfs/zeros", zeros=a.n or (64 << 20))]


def many(a):
    return [manifest()] + base() + [E("file", "rootfs/f%d" % i) for i in range(a.n or 1000)]


def deep(a):
    name = "rootfs" + "/d" * (a.n or 200)
    return [manifest()] + base() + [E("file", name, data="x")]


def longname(a):
    return [manifest()] + base() + [E("file", "rootfs/" + "/".join(
        ["n" * 200] * ((a.n or 5000) // 201 + 1)), data="x")]


def longlink(a):
    return [manifest()] + base() + [E("symlink", "rootfs/l", link="x" * (a.n or 8192))]


def bigpax(a):
    return [manifest()] + base() + [E("file", "rootfs/x", data="x",
                                      pax={"comment": "c" * (a.n or (2 << 20))})]


def manyxattrs(a):
    return [manifest()] + base() + [E("file", "rootfs/x", data="x", xattrs={
        "user.k%d" % i: "v" * 100 for i in range(a.n or 1000)})]


def sparse(a):
    # GNU sparse 1.0 (pax): a 1 GiB file whose archive member holds one 512-byte block
    return [manifest()] + base() + [E("file", "rootfs/GNUSparseFile.0/sparse",
                                      data=b"1\n0\n512\n".ljust(512, b"\0") + b"x" * 512,
                                      pax={"GNU.sparse.major": "1", "GNU.sparse.minor": "0",
                                           "GNU.sparse.name": "rootfs/sparse",
                                           "GNU.sparse.realsize": str(1 << 30)})]


def whiteout(a):
    return [manifest()] + base() + [E("file", "rootfs/foo", data="keep"),
                                    E("file", "rootfs/.wh.foo"),
                                    E("file", "rootfs/.wh..wh..opq")]


def bigmanifest(a):
    return [manifest(b" " * (a.n or (2 << 20)))] + base()


PRESETS = {n.replace("_", "-"): f for n, f in list(globals().items())
           if callable(f) and f.__module__ == __name__ and n not in (
               "E", "add", "base", "build_tar", "compress", "manifest", "target", "main",
               "raw_preset", "Zeros")}


def raw_preset(name, a):
    """Presets that are not a single tar."""
    if name == "nested-gz":
        return gzip.compress(gzip.compress(build_tar(good(a)), mtime=0), mtime=0)
    if name == "zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("manifest", MANIFEST)
            z.writestr("rootfs/a", "x")
        return buf.getvalue()
    if name == "trailing":
        return build_tar(good(a)) + b"\0" * (a.n or 10240) + b"garbage"
    if name == "gnu-format":
        return build_tar(good(a), tarfile.GNU_FORMAT)
    if name == "ustar-format":
        return build_tar([e for e in good(a) if "\u00e9" not in e["name"]], tarfile.USTAR_FORMAT)
    return None


RAW = ("nested-gz", "zip", "trailing", "gnu-format", "ustar-format")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("preset", nargs="?")
    p.add_argument("out", nargs="?")
    p.add_argument("--compress", default="none")
    p.add_argument("--target")
    p.add_argument("--n", type=int)
    p.add_argument("--json")
    p.add_argument("--keep-tar", action="store_true")
    p.add_argument("--list", action="store_true")
    a = p.parse_args()
    if a.list:
        print("\n".join(sorted(list(PRESETS) + list(RAW))))
        return
    if a.json is not None:
        a.out = a.out or a.preset
        ents = json.loads(a.json)
        for e in ents:
            if isinstance(e.get("data"), str):
                e["data"] = e["data"].encode()
        tar = build_tar(ents)
    elif a.preset in RAW:
        tar = raw_preset(a.preset, a)
    elif a.preset in PRESETS:
        tar = build_tar(PRESETS[a.preset](a))
    else:
        raise SystemExit("mkaci: unknown preset %r (try --list)" % a.preset)
    if not a.out:
        raise SystemExit("mkaci: no output file")
    if a.keep_tar:
        with open(a.out + ".tar", "wb") as f:
            f.write(tar)
    with open(a.out, "wb") as f:
        f.write(compress(tar, a.compress))


if __name__ == "__main__":
    main()
