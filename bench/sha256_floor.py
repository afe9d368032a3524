"""The floor of a report on the benchmark's input: the SHA-256 of every byte, with OpenSSL
(Python's hashlib, which uses SHA-NI where the CPU has it), one file after another.

Usage: python3 sha256_floor.py DIR SHARE
Hashes every file under DIR and prints the seconds it took divided by SHARE: SHARE is 1 for
one file, the number of cores for many files, whose hashes a report runs side by side.
"""
import hashlib
import os
import sys
import time

directory, share = sys.argv[1], int(sys.argv[2])
files = sorted(os.path.join(d, f) for d, _, fs in os.walk(directory) for f in fs)
start = time.perf_counter()
for path in files:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(16 << 20):
            h.update(chunk)
spent = time.perf_counter() - start
print(f"{spent / share:.3f}")
