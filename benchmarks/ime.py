"""Load time and lookup time of the on-screen keyboard's pinyin core, as a resident types.

Each realistic input (employer names, jobs, towns of 沁源县, everyday words; full pinyin,
initials and mixed) is typed letter by letter and every prefix is looked up, as the keyboard
screen does after each key. "cold" is the first pass over a freshly loaded index (each group of
the word list is parsed on first use); "warm" repeats the same typing on that index.
Prints one JSON object. Usage: python benchmarks/ime.py [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from importlib import resources

from kiosk.domain.pinyin_ime import PinyinIndex

INPUTS = [
    "qinyuanxian",
    "sijiba",
    "siji",
    "sj",
    "diangong",
    "baojie",
    "baoan",
    "youxiangongsi",
    "yxgs",
    "hezuoshe",
    "yangzhichang",
    "jiazheng",
    "jianzhudui",
    "jzd",
    "chengguanzhen",
    "guodao",
    "lingkongshan",
    "chishiqiao",
    "congziyu",
    "shanxisheng",
    "zhangsan",
    "wangjianguo",
    "lishuhua",
    "meikuang",
    "wuyelv",
    "shij",
    "xianzai",
    "gongzuo",
    "zhongguo",
    "nvshi",
]


def percentile(sorted_values: list[float], fraction: float) -> float:
    return sorted_values[int(fraction * (len(sorted_values) - 1))]


def typing(index: PinyinIndex) -> tuple[list[float], list[float]]:
    """Lookup times (µs) of every prefix of every input, and of the 6-letter ones alone."""
    all_us, six_us = [], []
    for word in INPUTS:
        for end in range(1, len(word) + 1):
            letters = word[:end]
            started = time.perf_counter()
            cands = index.candidates(letters)
            elapsed = (time.perf_counter() - started) * 1e6
            if not cands:
                raise SystemExit(f"no candidates for {letters!r}")
            all_us.append(elapsed)
            if end == 6:
                six_us.append(elapsed)
    return all_us, six_us


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    data = resources.files("kiosk.domain.data").joinpath("pinyin_words.txt")
    load_ms = []
    for _ in range(5):
        started = time.perf_counter()
        index = PinyinIndex.load()
        load_ms.append((time.perf_counter() - started) * 1000)
    cold_all, cold_six = typing(index)
    warm_all, warm_six = [], []
    for _ in range(args.rounds):
        all_us, six_us = typing(index)
        warm_all += all_us
        warm_six += six_us
    for values in (cold_all, cold_six, warm_all, warm_six):
        values.sort()
    print(
        json.dumps(
            {
                "benchmark": "pinyin_ime",
                "file_bytes": len(data.read_bytes()),
                "load_ms_first": round(load_ms[0], 1),
                "load_ms_median": round(statistics.median(load_ms), 1),
                "lookups_per_round": len(cold_all),
                "rounds": args.rounds,
                "cold_lookup_p50_us": round(percentile(cold_all, 0.5)),
                "cold_lookup_p95_us": round(percentile(cold_all, 0.95)),
                "cold_lookup_max_us": round(cold_all[-1]),
                "lookup_p50_us": round(percentile(warm_all, 0.5)),
                "lookup_p95_us": round(percentile(warm_all, 0.95)),
                "lookup_max_us": round(warm_all[-1]),
                "six_letter_p50_us": round(percentile(warm_six, 0.5)),
                "six_letter_p95_us": round(percentile(warm_six, 0.95)),
                "six_letter_cold_max_us": round(cold_six[-1]),
            }
        )
    )


if __name__ == "__main__":
    main()
