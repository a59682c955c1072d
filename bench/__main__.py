"""`make bench`: every benchmark, each printing figures and ratios against a
baseline measured in the same run. `make bench NAME=audit` (or
`python -m bench audit search`) runs only those named."""

from confide_persistence.green import patch

patch()

import sys  # noqa: E402
import time  # noqa: E402

from bench import audit, callers, console, green_io, records, relay, rpc, scheduling, search  # noqa: E402
from bench.common import Figures  # noqa: E402

BENCHMARKS = {module.__name__.rsplit(".", 1)[1]: module
              for module in (green_io, rpc, callers, relay, audit, records, search, scheduling, console)}

if __name__ == "__main__":
    names = sys.argv[1:] or list(BENCHMARKS)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        sys.exit(f"no benchmark {', '.join(unknown)}: the benchmarks are {', '.join(BENCHMARKS)}")
    started = time.perf_counter()
    for name in names:
        figures = BENCHMARKS[name].run()
        if isinstance(figures, Figures):
            print(figures.json())
        print()
    print(f"benchmarks finished in {time.perf_counter() - started:.1f}s")
