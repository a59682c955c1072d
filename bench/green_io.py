"""What the cooperative psycopg wait function costs and what it buys.

psycopg chooses its wait function at import, so each variant runs in a child
process of this benchmark: sequential round trips (cost) and 20 concurrent
``pg_sleep(0.2)`` in green threads (what it buys).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from bench.common import ADMIN_URL, Figures

CHILD = r"""
import json, os, sys, time
import eventlet
eventlet.monkey_patch()
import psycopg
url = sys.argv[1]
with psycopg.connect(url) as conn:
    started = time.perf_counter()
    for _ in range(3000):
        conn.execute("SELECT 1").fetchone()
    sequential = 3000 / (time.perf_counter() - started)

def nap():
    with psycopg.connect(url) as conn:
        conn.execute("SELECT pg_sleep(0.2)")

started = time.perf_counter()
pool = eventlet.GreenPool(20)
for _ in range(20):
    pool.spawn(nap)
pool.waitall()
print(json.dumps({"sequential": sequential, "concurrent_wall": time.perf_counter() - started,
                  "wait": psycopg.waiting.wait.__name__}))
"""


def _child(wait_func: str) -> dict:
    env = dict(os.environ, PSYCOPG_WAIT_FUNC=wait_func)
    out = subprocess.run([sys.executable, "-c", CHILD, ADMIN_URL], env=env, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run() -> Figures:
    figures = Figures("green_io", "psycopg 3 under eventlet (3,000 sequential SELECT 1; 20 concurrent pg_sleep(0.2))")
    c_wait = _child("wait_c")
    green = _child("wait_select")
    figures.add("wait_c_per_s", c_wait["sequential"], "q/s", "sequential queries, wait_c (psycopg default, baseline)")
    figures.add("wait_select_per_s", green["sequential"], "q/s", "sequential queries, wait_select (our choice)",
                c_wait["sequential"], "wait_c")
    figures.add("concurrent_wait_c_ms", c_wait["concurrent_wall"] * 1000, "ms",
                "20 concurrent pg_sleep(0.2), wall time, wait_c")
    figures.add("concurrent_wait_select_ms", green["concurrent_wall"] * 1000, "ms",
                "20 concurrent pg_sleep(0.2), wall time, wait_select", c_wait["concurrent_wall"] * 1000, "wait_c")
    return figures
