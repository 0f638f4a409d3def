"""The long fuzzing campaign, outside CI. Findings go to bench/RESULTS_fuzz.md (by hand).

    .venv/bin/python bench/fuzz_long.py atheris [-- LIBFUZZER OPTIONS]   # coverage-guided (pip install atheris)
    .venv/bin/python bench/fuzz_long.py hypothesis --examples 100000      # hypothesis drives the CI harness
    .venv/bin/python bench/fuzz_long.py campaign --cases 200000 --seed 7  # the CI campaign, longer, other seed

``atheris`` feeds whole files, starting from the seeds of tests/test_fuzz.py (the corpus hives
of at most 256 KiB and the built ones) written to a seed folder, and runs the library the way
the commands do: open, walk every key and value (``ls -r``), check, set one value and save,
compact. Anything but success or a HivetoolError of exit code 3 (4 for a refused write) is a
crash it reports and saves. The other two modes reuse the CI harness (``run_case``): per-case
timeout, every command through the CLI in-process, the same acceptable outcomes.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests"))

import test_fuzz  # noqa: E402

MAX_LEN = test_fuzz.MAX_INPUT


def one_input(data: bytes) -> None:
    """The atheris target: every reading and writing path of the library on one file."""
    from hivetool.errors import HivetoolError
    from hivetool.regf.check import check_bytes
    from hivetool.regf.compact import compact_bytes
    from hivetool.regf.hive import Hive

    check_bytes(data)
    try:
        hive = Hive.from_bytes(data, "input", test_fuzz.CLOCK)
        for key in hive.walk():
            key.values()
            _ = key.class_name, key.last_write
    except HivetoolError as err:
        if err.exit_code not in (3, 5):
            raise
        return
    for action in (lambda: compact_bytes(Hive.from_bytes(data, "input", test_fuzz.CLOCK)),
                   lambda: _set_and_save(Hive.from_bytes(data, "input", test_fuzz.CLOCK))):
        try:
            action()
        except HivetoolError as err:
            if err.exit_code not in (3, 4, 5):
                raise


def _set_and_save(hive) -> None:
    key = hive.create_key("fuzz\\target")
    hive.set_value(key, "value", 4, b"\x01\0\0\0")
    hive.to_bytes()


def run_atheris(extra: list[str]) -> None:
    import atheris

    seeds = Path(tempfile.mkdtemp(prefix="hivetool-fuzz-seeds-"))
    for index, (name, data) in enumerate(test_fuzz.corpus_seeds() + test_fuzz.built_seeds()):
        (seeds / f"seed{index:03d}").write_bytes(data)
    with atheris.instrument_imports():
        import hivetool.regf.check  # noqa: F401
        import hivetool.regf.compact  # noqa: F401
        import hivetool.regf.hive  # noqa: F401
    argv = [sys.argv[0], str(seeds), f"-max_len={MAX_LEN}", "-timeout=20", "-rss_limit_mb=4096", *extra]
    atheris.Setup(argv, one_input)
    atheris.Fuzz()


def run_hypothesis(examples: int) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    seeds = test_fuzz.load_seeds()
    work = Path(tempfile.mkdtemp(prefix="hivetool-fuzz-"))
    os.environ["HIVETOOL_DEBUG"] = "1"
    failures: list[str] = []

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(seed=st.integers(0, len(seeds) - 1), case=st.integers(0, 2**31), campaign=st.integers(0, 2**31))
    def case(seed: int, case: int, campaign: int) -> None:
        outcome = test_fuzz.run_case(seeds[seed], case, work, campaign)
        if not outcome.ok and not test_fuzz.known_bug(outcome.detail):
            failures.append(outcome.detail)
            raise AssertionError(outcome.detail)

    try:
        case()
    finally:
        print(f"{len(failures)} unexplained failure(s)")
        print("\n".join(failures[:20]))


def run_campaign(cases: int, seed: int) -> None:
    os.environ["HIVETOOL_DEBUG"] = "1"
    work = Path(tempfile.mkdtemp(prefix="hivetool-fuzz-"))
    failures, tally = test_fuzz.campaign(cases, work, campaign_seed=seed)
    known = [f for f in failures if test_fuzz.known_bug(f)]
    other = [f for f in failures if not test_fuzz.known_bug(f)]
    print(dict(sorted(tally.items())))
    print(f"{len(known)} known, {len(other)} unexplained")
    by_bug: dict[str, int] = {}
    for detail in known:
        name = test_fuzz.known_bug(detail) or ""
        by_bug[name] = by_bug.get(name, 0) + 1
    print(by_bug)
    print("\n".join(other[:40]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["atheris", "hypothesis", "campaign"])
    parser.add_argument("--examples", type=int, default=100_000)
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=random.randrange(2**31))
    args, rest = parser.parse_known_args()
    if args.mode == "atheris":
        run_atheris([a for a in rest if a != "--"])
    elif args.mode == "hypothesis":
        run_hypothesis(args.examples)
    else:
        print(f"campaign seed {args.seed}")
        run_campaign(args.cases, args.seed)


if __name__ == "__main__":
    main()
