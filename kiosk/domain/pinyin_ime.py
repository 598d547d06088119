"""Pinyin input core for the on-screen keyboard: typed letters → ranked Chinese candidates.

Pure and stdlib-only; the keyboard screen owns the typed letters and the text built so far, and
asks ``PinyinIndex.candidates(letters)`` after every key. A candidate says how many of the typed
letters it uses (``consumed``, always from the start): the screen appends ``text`` to the field,
drops that many letters and asks again with the rest, so a long input is built word by word.

Matching is the phone-IME kind. The input is split into pieces, each a non-empty prefix of a
pinyin syllable (``ü`` is typed ``v``: ``lv``, ``nve``; ``jv``/``qv``/``xv``/``yv`` are read as
``ju``/``qu``/``xu``/``yu``), and a word of n syllables matches when n pieces are prefixes of its
syllables in order: full pinyin (``siji``), initials (``sj``, ``shj``), mixed (``sij``, ``shij``)
and an unfinished last syllable all fall out of that one rule.

Order of ``candidates``:
  1. words using all the letters: first those the input spells out in full, then by how few of
     their syllables were given by a prefix only (``zhan``: 站 before 张 = zhang and 治安 = zh'an),
     then by word frequency, highest first;
  2. words for a leading part of the input, cut where ``syllables()`` cuts it, longest part first,
     then by frequency; the single characters of the first syllable are always among the results
     (a third of ``limit`` is kept for them), so any text can be built character by character.

Data: ``kiosk/domain/data/pinyin_words.txt`` (made by ``scripts/build_pinyin_data.py``): ``#``
comment lines, then groups, each an ``@key`` line (``bucket_key``: the initials, ``sh'j``) and its
rows ``word<TAB>syllables<TAB>frequency``, most frequent first. ``PinyinIndex.load()`` only splits
the file into groups (a few tens of ms); a group is parsed on first use. An index is safe to share between
threads. ``candidates`` and ``syllables`` raise ``ValueError`` for anything but ``a``–``z``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

# Every toneless syllable of Standard Chinese that some GB2312 character is read with (ü as v),
# without the interjection-only m, n, ng, hm, hng.
_SYLLABLE_TEXT = """
    a ai an ang ao ba bai ban bang bao bei ben beng bi bian biao bie bin bing bo bu ca cai can cang
    cao ce cen ceng cha chai chan chang chao che chen cheng chi chong chou chu chua chuai chuan
    chuang chui chun chuo ci cong cou cu cuan cui cun cuo da dai dan dang dao de dei deng di dia
    dian diao die ding diu dong dou du duan dui dun duo e ei en er fa fan fang fei fen feng fo fou
    fu ga gai gan gang gao ge gei gen geng gong gou gu gua guai guan guang gui gun guo ha hai han
    hang hao he hei hen heng hong hou hu hua huai huan huang hui hun huo ji jia jian jiang jiao jie
    jin jing jiong jiu ju juan jue jun ka kai kan kang kao ke kei ken keng kong kou ku kua kuai
    kuan kuang kui kun kuo la lai lan lang lao le lei len leng li lia lian liang liao lie lin ling
    liu lo long lou lu luan lun luo lv lve ma mai man mang mao me mei men meng mi mian miao mie min
    ming miu mo mou mu na nai nan nang nao ne nei nen neng ni nian niang niao nie nin ning niu nong
    nou nu nuan nuo nv nve o ou pa pai pan pang pao pei pen peng pi pian piao pie pin ping po pou
    pu qi qia qian qiang qiao qie qin qing qiong qiu qu quan que qun ran rang rao re ren reng ri
    rong rou ru ruan rui run ruo sa sai san sang sao se sen seng sha shai shan shang shao she shei
    shen sheng shi shou shu shua shuai shuan shuang shui shun shuo si song sou su suan sui sun suo
    ta tai tan tang tao te tei teng ti tian tiao tie ting tong tou tu tuan tui tun tuo wa wai wan
    wang wei wen weng wo wu xi xia xian xiang xiao xie xin xing xiong xiu xu xuan xue xun ya yan
    yang yao ye yi yin ying yo yong you yu yuan yue yun za zai zan zang zao ze zei zen zeng zha
    zhai zhan zhang zhao zhe zhei zhen zheng zhi zhong zhou zhu zhua zhuai zhuan zhuang zhui zhun
    zhuo zi zong zou zu zuan zui zun zuo
"""
SYLLABLES: frozenset[str] = frozenset(_SYLLABLE_TEXT.split())

# Every non-empty prefix of a syllable: the pieces an input may be cut into.
PREFIXES: frozenset[str] = frozenset(s[:i] for s in SYLLABLES for i in range(1, len(s) + 1))
MAX_WORD_SYLLABLES = 4
_MAX_PIECE = max(map(len, SYLLABLES))
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz")
_DATA_PACKAGE = "kiosk.domain.data"
_DATA_FILE = "pinyin_words.txt"
_SINGLES_SHARE = 3  # a third of ``limit`` is kept for the first syllable's single characters


@dataclass(frozen=True)
class Candidate:
    """One choice offered for the typed letters."""

    text: str  # Chinese word or single character
    consumed: int  # how many of the typed letters this candidate uses (from the start)


def _initial(syllable: str) -> str:
    """The bucket letter(s) of a syllable: ``zh``/``ch``/``sh`` or its first letter."""
    return syllable[:2] if syllable[:2] in ("zh", "ch", "sh") else syllable[0]


def _piece_initials(piece: str) -> tuple[str, ...]:
    """Initials of the syllables a piece can begin: a bare ``z``/``c``/``s`` also means zh/ch/sh."""
    if piece in ("z", "c", "s"):
        return (piece, piece + "h")
    return (_initial(piece),)


def _check(letters: str) -> str:
    if not isinstance(letters, str) or not set(letters) <= _LETTERS:
        raise ValueError(f"pinyin input must be lowercase a-z only, got {letters!r}")
    return letters


def _normalise(letters: str) -> str:
    """``jv``/``qv``/``xv``/``yv`` → ``ju``…: same length, so ``consumed`` counts are unchanged."""
    if "v" not in letters:
        return letters
    out = list(letters)
    for i in range(1, len(out)):
        if out[i] == "v" and out[i - 1] in "jqxy":
            out[i] = "u"
    return "".join(out)


def _segment(letters: str) -> tuple[str, ...]:
    """Split normalised letters into display pieces.

    Fewest pieces, then fewest unfinished ones, then the longest pieces first (``fangan`` →
    fang an). Letters that begin no syllable (``i``, ``u``, a ``v`` after no l/n) become
    one-letter pieces of their own.
    """
    n = len(letters)
    # best[i] = (cost, pieces) for letters[:i]
    # cost = (junk pieces, pieces, unfinished pieces, minus the lengths of the pieces in order)
    best: list[tuple[tuple, tuple[str, ...]] | None] = [((0, 0, 0, ()), ())] + [None] * n
    for i in range(n):
        entry = best[i]
        if entry is None:
            continue
        (junk, count, unfinished, lengths), pieces = entry
        options = [
            (letters[i:j], 0, 0 if letters[i:j] in SYLLABLES else 1)
            for j in range(i + 1, min(n, i + _MAX_PIECE) + 1)
            if letters[i:j] in PREFIXES
        ] or [(letters[i], 1, 0)]
        for piece, junk_step, unfinished_step in options:
            j = i + len(piece)
            cost = (
                junk + junk_step,
                count + 1,
                unfinished + unfinished_step,
                (*lengths, -len(piece)),
            )
            current = best[j]
            if current is None or cost < current[0]:
                best[j] = (cost, (*pieces, piece))
    final = best[n]
    assert final is not None  # every position is reachable: a junk piece is always possible
    return final[1]


def _splits(letters: str, max_pieces: int) -> list[tuple[str, ...]]:
    """Every cut of ``letters`` into at most ``max_pieces`` syllable prefixes."""
    out: list[tuple[str, ...]] = []

    def walk(start: int, pieces: tuple[str, ...]) -> None:
        if start == len(letters):
            out.append(pieces)
            return
        if len(pieces) == max_pieces:
            return
        for end in range(start + 1, min(len(letters), start + _MAX_PIECE) + 1):
            piece = letters[start:end]
            if piece in PREFIXES:
                walk(end, (*pieces, piece))

    walk(0, ())
    return out


class PinyinIndex:
    """Words and characters by pinyin, loaded from the packaged list.

    Rows are grouped by the initials of their syllables (``bucket_key``); a group is parsed the
    first time a lookup needs it, so loading is one read and one split. Safe to share between
    threads: parsing a group twice at once only does the same work twice.
    """

    def __init__(self, groups: dict[str, str]) -> None:
        """Build from ``{bucket key: rows text}``, rows as in the data file, most frequent first."""
        self._raw = groups
        self._parsed: dict[str, list[tuple[int, str, tuple[str, ...]]]] = {}

    @classmethod
    def load(cls, path: Path | None = None) -> PinyinIndex:
        """Read the word list at ``path`` (default: the packaged ``pinyin_words.txt``).

        Raises ``OSError`` when the file cannot be read, ``ValueError`` when it has no groups; a
        malformed row raises ``ValueError`` from the first lookup that reads its group.
        """
        if path is None:
            text = resources.files(_DATA_PACKAGE).joinpath(_DATA_FILE).read_text("utf-8")
        else:
            text = Path(path).read_text("utf-8")
        chunks = ("\n" + text).split("\n@")
        groups = {}
        for chunk in chunks[1:]:
            key, _, rows = chunk.partition("\n")
            groups[key] = rows
        if not groups:
            raise ValueError(f"no pinyin groups in {path or _DATA_FILE}")
        return cls(groups)

    def syllables(self, letters: str) -> list[str]:
        """Display segmentation of the typed letters: ``"sijiba"`` → ``["si", "ji", "ba"]``.

        Pieces are the letters as typed (``v`` stays ``v``); they always join back to the input.
        """
        _check(letters)
        pieces = _segment(_normalise(letters))
        out, start = [], 0
        for piece in pieces:
            out.append(letters[start : start + len(piece)])
            start += len(piece)
        return out

    def candidates(self, letters: str, limit: int = 60) -> list[Candidate]:
        """Ranked candidates for the typed letters (see the module docstring for the order)."""
        _check(letters)
        if not letters or limit <= 0:
            return []
        norm = _normalise(letters)
        pieces = _segment(norm)
        if norm[0] not in PREFIXES:
            return []
        ends = list(itertools.accumulate(len(p) for p in pieces))
        ordered: list[Candidate] = []
        seen: set[str] = set()
        for consumed in sorted({*ends, len(norm)}, reverse=True):
            for _, _, text in self._matches(norm[:consumed], limit):
                if text not in seen:
                    seen.add(text)
                    ordered.append(Candidate(text, consumed))
        if len(ordered) <= limit:
            return ordered
        return _keep_singles(ordered, ends[0], limit)

    def _rows(self, key: str) -> list[tuple[int, str, tuple[str, ...]]]:
        rows = self._parsed.get(key)
        if rows is None:
            raw = self._raw.get(key)
            rows = _parse(key, raw) if raw else []
            self._parsed[key] = rows
        return rows

    def _matches(self, letters: str, limit: int) -> list[tuple[int, int, str]]:
        """Best ``limit`` ``(rank, frequency, text)`` of words that ``letters`` spells in full.

        The rank counts syllables given by a prefix only (``xian`` for 向 = xiang, ``s'j``), so
        words the input spells out come first.
        """
        best: dict[str, tuple[int, int, str]] = {}
        for pieces in _splits(letters, MAX_WORD_SYLLABLES):
            for key in itertools.product(*map(_piece_initials, pieces)):
                for freq, text, syllables in self._rows("'".join(key)):
                    rank = 0
                    for syllable, piece in zip(syllables, pieces, strict=True):
                        if syllable != piece:
                            if not syllable.startswith(piece):
                                break
                            rank += 1
                    else:
                        old = best.get(text)
                        if old is None or (rank, -freq) < (old[0], -old[1]):
                            best[text] = (rank, freq, text)
        rows = sorted(best.values(), key=lambda row: (row[0], -row[1]))
        return rows[:limit]


def _keep_singles(ordered: list[Candidate], first: int, limit: int) -> list[Candidate]:
    """Cut ``ordered`` to ``limit``, keeping the best first-syllable single characters in it."""
    singles = [i for i, c in enumerate(ordered) if c.consumed == first and len(c.text) == 1]
    keep = set(singles[: max(1, limit // _SINGLES_SHARE)])
    missing = [i for i in keep if i >= limit]
    chosen = set(range(limit))
    droppable = [i for i in reversed(range(limit)) if i not in keep]
    chosen.difference_update(droppable[: len(missing)])
    chosen.update(missing)
    return [ordered[i] for i in sorted(chosen)]


def bucket_key(syllables: tuple[str, ...] | list[str]) -> str:
    """The group a word's row is filed under: its initials joined by ``'`` (``shi jie`` → sh'j)."""
    return "'".join(_initial(s) for s in syllables)


def _parse(key: str, raw: str) -> list[tuple[int, str, tuple[str, ...]]]:
    rows = []
    for line in raw.splitlines():
        if not line or line.startswith("#"):
            continue
        try:
            word, pinyin, freq = line.split("\t")
            syllables = tuple(pinyin.split(" "))
            rows.append((int(freq), word, syllables))
        except ValueError as exc:
            raise ValueError(f"pinyin data, group @{key}: bad row {line!r}") from exc
        if len(syllables) != len(word) or bucket_key(syllables) != key:
            raise ValueError(f"pinyin data, group @{key}: row {line!r} does not belong here")
    return rows
