"""Generate kiosk/domain/data/pinyin_words.txt, the word list of the on-screen pinyin keyboard.

Sources (both MIT, texts in kiosk/domain/data/LICENSE.pinyin-data.txt):
  * jieba's dict.txt: words and their corpus frequencies;
  * pypinyin: the pinyin of each word (its phrase dictionary settles heteronyms) and every
    reading of each single character.
Rows: all 6763 GB2312 characters with all their readings (level 1 = the 3755 common ones), each
reading weighted by how often the character is read so in jieba's words; jieba's words of 2–4
GB2312 characters, most frequent first, until the file would pass --max-bytes; local place names
of 沁源县, common gig jobs and employer/form words, weighted high. Same inputs → byte-identical
output.

Not a runtime dependency. Run it in a throwaway venv:
    python3 -m venv /tmp/imevenv && /tmp/imevenv/bin/pip install jieba==0.42.1 pypinyin==0.55.0
    /tmp/imevenv/bin/python scripts/build_pinyin_data.py
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from importlib.metadata import version
from pathlib import Path

import jieba
from pypinyin import Style, pinyin

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from kiosk.domain.pinyin_ime import SYLLABLES, bucket_key  # noqa: E402  (stdlib-only module)

OUT = ROOT / "kiosk" / "domain" / "data" / "pinyin_words.txt"
MAX_BYTES = 1_900_000
MAX_WORD_LEN = 4

# Towns and rivers of 沁源县 (pinyin spelled out, checked against pypinyin below).
LOCAL_WEIGHT = 10_000
LOCAL_WORDS = {
    "沁源": "qin yuan",
    "沁源县": "qin yuan xian",
    "沁河": "qin he",
    "城关": "cheng guan",
    "郭道": "guo dao",
    "灵空山": "ling kong shan",
    "王和": "wang he",
    "李元": "li yuan",
    "中峪": "zhong yu",
    "法中": "fa zhong",
    "交口": "jiao kou",
    "聪子峪": "cong zi yu",
    "韩洪": "han hong",
    "赤石桥": "chi shi qiao",
    "官滩": "guan tan",
    "长治": "chang zhi",
    "山西": "shan xi",
}
# The gig jobs residents register most: among the first few even when typed by initials.
JOB_WEIGHT = 15_000
_JOBS = "司机 电工 焊工 保洁 保安 保姆 月嫂 护工 厨师 家政 木工 瓦工"
JOB_WORDS = _JOBS.split()
# Words of employer names, jobs and the forms' free text: at least this frequency.
DOMAIN_WEIGHT = 5_000
_DOMAIN = """
育婴 服务员 收银员 钢筋工 油漆工 架子工
水电工 装卸工 搬运工 普工 技工 小工 零工 杂工 临时工 钳工 电焊 挖掘机 装载机 叉车 货车 铲车
有限公司 有限责任 公司 合作社 养殖场 养殖 种植 建筑队 工程队 施工队 劳务 劳务派遣
物业 个体 个体户 工商户 农家乐 煤矿 焦化 运输 建筑 装修 装饰 商贸 商店 超市 饭店 餐饮 门市部
加工厂 养猪场 养鸡场 种植园 果园 苗木 药材 村委会 居委会 社区 乡镇 镇政府 服务部 经销部 维修部
汽修 洗车 快递 外卖 环卫 绿化 清洁 家电 水泥 砖厂 采摘 农民 务工 打工 工地 工资 补充说明
工作单位 用工单位 用人单位
"""
DOMAIN_WORDS = _DOMAIN.split()
EXTRA_READINGS = {"嗯": ("en",)}  # pypinyin gives only the interjection readings n, ng


def gb2312_chars() -> list[str]:
    """All 6763 GB2312 hanzi in code order: the first 3755 are level 1."""
    chars = []
    for hi in range(0xB0, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.append(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def word_pinyin(word: str) -> tuple[str, ...] | None:
    """pypinyin's reading of a word (phrase dictionary first), or None if not all standard."""
    syllables = tuple(s[0] for s in pinyin(word, style=Style.NORMAL, heteronym=False))
    if len(syllables) != len(word) or not all(s in SYLLABLES for s in syllables):
        return None
    return syllables


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-bytes", type=int, default=MAX_BYTES)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    chars = gb2312_chars()
    charset = set(chars)
    dict_path = Path(jieba.__file__).parent / "dict.txt"
    jieba_freq: dict[str, int] = {}
    for line in dict_path.read_text("utf-8").splitlines():
        word, freq, *_ = line.split(" ")
        jieba_freq[word] = int(freq)

    # every jieba word we can use, with its reading
    words: dict[str, tuple[tuple[str, ...], int]] = {}
    for word, freq in jieba_freq.items():
        if 2 <= len(word) <= MAX_WORD_LEN and set(word) <= charset:
            syllables = word_pinyin(word)
            if syllables is not None:
                words[word] = (syllables, freq)

    # how often each character is read each way, over all those words
    read_as: Counter[tuple[str, str]] = Counter()
    for word, (syllables, freq) in words.items():
        for ch, syllable in zip(word, syllables, strict=True):
            read_as[ch, syllable] += freq

    rows: dict[tuple[str, tuple[str, ...]], int] = {}
    for ch in chars:
        readings = [r for r in pinyin(ch, style=Style.NORMAL, heteronym=True)[0] if r in SYLLABLES]
        readings = list(dict.fromkeys(readings + list(EXTRA_READINGS.get(ch, ()))))
        if not readings:
            raise SystemExit(f"no standard reading for {ch}")
        base = jieba_freq.get(ch, 1)
        prior = [2] + [1] * (len(readings) - 1)  # pypinyin's first reading is the usual one
        counts = [
            read_as[ch, r] + p * max(1, base // 100) for r, p in zip(readings, prior, strict=True)
        ]
        total = sum(counts)
        for reading, count in zip(readings, counts, strict=True):
            rows[ch, (reading,)] = max(1, round(base * count / total))

    extra: dict[str, tuple[tuple[str, ...], int]] = {}
    for word, spelled in LOCAL_WORDS.items():
        syllables = tuple(spelled.split())
        if word_pinyin(word) != syllables:
            print(f"note: pypinyin reads {word} as {word_pinyin(word)}, using {syllables}")
        extra[word] = (syllables, max(LOCAL_WEIGHT, jieba_freq.get(word, 0)))
    for weight, domain_words in ((JOB_WEIGHT, JOB_WORDS), (DOMAIN_WEIGHT, DOMAIN_WORDS)):
        for word in domain_words:
            syllables = word_pinyin(word)
            if syllables is None or len(word) > MAX_WORD_LEN:
                raise SystemExit(f"no standard reading for {word}, or longer than {MAX_WORD_LEN}")
            extra.setdefault(word, (syllables, max(weight, jieba_freq.get(word, 0))))
    for word, (syllables, freq) in extra.items():
        words.pop(word, None)
        rows[word, syllables] = freq

    def line(text: str, syllables: tuple[str, ...], freq: int) -> str:
        return f"{text}\t{' '.join(syllables)}\t{freq}\n"

    group_line_bytes = {}  # the "@key" line a group adds, counted once per group
    for (_, syllables), _ in rows.items():
        key = bucket_key(syllables)
        group_line_bytes[key] = len(key) + 2

    # jieba words by frequency, cut at a frequency step so the file stays under the budget
    fixed = sum(len(line(t, s, f).encode()) for (t, s), f in rows.items())
    budget = args.max_bytes - fixed - sum(group_line_bytes.values()) - 2_000  # header
    by_freq = sorted(words.items(), key=lambda kv: (-kv[1][1], kv[0]))
    cutoff, used, i = 0, 0, 0
    while i < len(by_freq):
        freq = by_freq[i][1][1]
        j = i
        step = 0
        new_groups = set()
        while j < len(by_freq) and by_freq[j][1][1] == freq:
            step += len(line(by_freq[j][0], *by_freq[j][1]).encode())
            key = bucket_key(by_freq[j][1][0])
            if key not in group_line_bytes and key not in new_groups:
                new_groups.add(key)
                step += len(key) + 2
            j += 1
        if used + step > budget:
            break
        used += step
        cutoff = freq
        group_line_bytes.update((key, len(key) + 2) for key in new_groups)
        for word, (syllables, f) in by_freq[i:j]:
            rows[word, syllables] = f
        i = j

    groups: dict[str, list[tuple[int, str, tuple[str, ...]]]] = {}
    for (text, syllables), freq in rows.items():
        groups.setdefault(bucket_key(syllables), []).append((freq, text, syllables))
    body = []
    for key in sorted(groups):
        body.append(f"@{key}\n")
        for freq, text, syllables in sorted(groups[key], key=lambda r: (-r[0], r[2], r[1])):
            body.append(line(text, syllables, freq))
    n_words = sum(1 for (t, _), _ in rows.items() if len(t) > 1)
    header = [
        "# 就近办 kiosk pinyin word list. Groups: a line @KEY (the syllables' initials joined by ')",
        "# then its rows word<TAB>pinyin syllables (ü as v)<TAB>frequency, most frequent first.",
        "# Generated by scripts/build_pinyin_data.py, do not edit by hand; regenerate instead.",
        f"# Sources: jieba {version('jieba')} dict.txt (word frequencies, MIT, (c) 2013 Sun Junyi),",
        f"# pypinyin {version('pypinyin')} (readings, MIT, (c) 2016 mozillazg, 闲耘);",
        "# license texts in LICENSE.pinyin-data.txt beside this file.",
        f"# Rows: all 6763 GB2312 characters with all their readings; {n_words} words:",
        f"# jieba words of 2-{MAX_WORD_LEN} GB2312 characters with frequency >= {cutoff},",
        f"# local place names of 沁源县 (>= {LOCAL_WEIGHT}), common gig jobs (>= {JOB_WEIGHT}),",
        f"# employer and form words (>= {DOMAIN_WEIGHT}).",
    ]
    args.out.write_text("\n".join(header) + "\n" + "".join(body), "utf-8")
    size = args.out.stat().st_size
    if size > args.max_bytes:
        raise SystemExit(f"{args.out}: {size} bytes, over the budget of {args.max_bytes}")
    print(f"{args.out}: {len(rows)} rows, {n_words} words, cutoff {cutoff}, {size} bytes")


if __name__ == "__main__":
    main()
