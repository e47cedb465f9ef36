"""`make bench`: run every bench/bench_*.py on a throw-away embedded PostgreSQL and print its figures.

Each benchmark prints its own figures and the baseline it is compared with, measured in the same run.
`python -m bench NAME` runs only the benchmarks whose module name contains NAME.
"""

import importlib
import os
import pkgutil
import sys
import time


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aios.settings_test")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    wanted = sys.argv[1:]
    import bench

    for module in sorted(m.name for m in pkgutil.iter_modules(bench.__path__)):
        if not module.startswith("bench_") or (wanted and not any(w in module for w in wanted)):
            continue
        started = time.perf_counter()
        print(f"\n== {module} ==", flush=True)
        importlib.import_module(f"bench.{module}").run()
        print(f"({time.perf_counter() - started:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
