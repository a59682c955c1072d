"""`make bench`: every benchmark, each printing figures and ratios against a
baseline measured in the same run."""

from confide_persistence.green import patch

patch()

import time  # noqa: E402

from bench import audit, callers, console, green_io, records, relay, scheduling, search  # noqa: E402

if __name__ == "__main__":
    started = time.perf_counter()
    for module in (green_io, callers, relay, audit, records, search, scheduling, console):
        module.run()
        print()
    print(f"benchmarks finished in {time.perf_counter() - started:.1f}s")
