#!/usr/bin/env python3
"""Changes a directory tree the way a working system does between backups, deterministically.

Usage: mutate-tree.py ROOT SEED [--modify PCT] [--delete PCT] [--add PCT]

With the same tree and seed it makes exactly the same changes, so several backup tools can
back up identical states. Per call (defaults in brackets):
  - modifies PCT [4] % of the files: a region of up to 16 KiB in the middle is replaced by a
    slice of another file plus a line naming the seed (so chunk boundaries move);
  - deletes PCT [1] % of the files;
  - adds PCT [1] % new files, each made of slices of existing files (compressible like the rest).
Prints one line: "modified N deleted N added N bytes_written N".
"""
import argparse
import os
import random
import sys


def files_under(root):
    out = []
    for d, dirs, names in os.walk(root):
        dirs.sort()
        for n in sorted(names):
            p = os.path.join(d, n)
            if os.path.isfile(p) and not os.path.islink(p):
                out.append(p)
    return out


def slice_of(rng, paths, limit):
    p = rng.choice(paths)
    with open(p, "rb") as f:
        data = f.read()
    if not data:
        return b""
    n = min(len(data), rng.randint(1, limit))
    start = rng.randint(0, len(data) - n)
    return data[start:start + n]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("root")
    ap.add_argument("seed", type=int)
    ap.add_argument("--modify", type=float, default=4.0)
    ap.add_argument("--delete", type=float, default=1.0)
    ap.add_argument("--add", type=float, default=1.0)
    a = ap.parse_args()
    if not os.path.isdir(a.root):
        sys.exit(f"error: {a.root} is not a directory")
    rng = random.Random(a.seed)
    paths = files_under(a.root)
    if not paths:
        sys.exit(f"error: {a.root} has no files")
    count = len(paths)
    written = 0

    to_modify = rng.sample(paths, max(1, int(count * a.modify / 100)))
    for p in to_modify:
        with open(p, "rb") as f:
            data = f.read()
        mid = len(data) // 2 + rng.randint(-len(data) // 4, len(data) // 4) if data else 0
        cut = min(len(data) - mid, rng.randint(0, 16384))
        insert = slice_of(rng, paths, 16384) + f"\n/* changed in round {a.seed} */\n".encode()
        new = data[:mid] + insert + data[mid + cut:]
        with open(p, "wb") as f:
            f.write(new)
        written += len(new)

    modified = set(to_modify)
    candidates = [p for p in paths if p not in modified]
    to_delete = rng.sample(candidates, min(len(candidates), int(count * a.delete / 100)))
    for p in to_delete:
        os.remove(p)
    gone = set(to_delete)
    alive = [p for p in paths if p not in gone]

    added = 0
    for i in range(int(count * a.add / 100)):
        base = os.path.dirname(rng.choice(alive))
        parts = [slice_of(rng, alive, 32768) for _ in range(rng.randint(1, 6))]
        body = f"/* added in round {a.seed}, file {i} */\n".encode() + b"".join(parts)
        with open(os.path.join(base, f"added-r{a.seed}-{i}.c"), "wb") as f:
            f.write(body)
        written += len(body)
        added += 1

    print(f"modified {len(to_modify)} deleted {len(to_delete)} added {added} bytes_written {written}")


if __name__ == "__main__":
    main()
