"""Grapheme-to-phoneme data: the CMU pronouncing dictionary 0.4 as Debian's festlex-cmu ships it for Festival.

Source: /usr/share/festival/dicts/cmu/cmudict-0.4.out (Debian package festlex-cmu), 105,775 entries of
("word" pos (((phones) stress) ...)): syllabified, one stress mark (0 or 1) per syllable. Its licence
(Centre for Speech Technology Research, University of Edinburgh; CMUDICT under a similar free licence)
asks that the copyright notice be retained: it is in data/g2p/LICENSE, copied from the package's copyright file.

Words, not pronunciations, are held out: entries are grouped by lower-cased word (a word with several
entries, e.g. "a" dt / "a" n, keeps all its distinct pronunciations as references), and each word goes to one
split by a fixed rule on its spelling: h = first 4 bytes of SHA-256(word) as a big-endian integer, h % 20 == 0
-> test, h % 20 == 1 -> validation, otherwise train (about 90/5/5). No random seed is involved; the rule
is the split. The test and validation words with their references are committed (data/g2p/test.tsv.gz,
valid.tsv.gz) so that the C# tests and the tour need not have the package installed.

Phones: the dictionary's 40 phones in lower case (Festival's cmu set: ax for the reduced vowel). "With stress"
writes each vowel with its syllable's stress digit (ae1, ax0); "without stress" drops the digits.
"""
import gzip
import hashlib
import os
import re
import shutil

CMUDICT = "/usr/share/festival/dicts/cmu/cmudict-0.4.out"
COPYRIGHT = "/usr/share/doc/festlex-cmu/copyright"
VOWELS = {"aa", "ae", "ah", "ao", "aw", "ax", "ay", "eh", "er", "ey", "ih", "iy", "ow", "oy", "uh", "uw"}
LETTERS = "abcdefghijklmnopqrstuvwxyz"
_ENTRY = re.compile(r'^\("([^"]+)" (\S+) \((.*)\)\)\s*$')
_SYL = re.compile(r"\(\(([a-z ]+)\) ([01])\)")


def split_of(word):
    h = int.from_bytes(hashlib.sha256(word.encode("utf-8")).digest()[:4], "big") % 20
    return "test" if h == 0 else "valid" if h == 1 else "train"


def parse_entry(line):
    """A dictionary line -> (word, [phones with stress digits on vowels]) or None for the header."""
    m = _ENTRY.match(line)
    if not m:
        return None
    phones = []
    for syl, stress in _SYL.findall(m.group(3)):
        for p in syl.split():
            phones.append(p + stress if p in VOWELS else p)
    return m.group(1).lower(), phones


def strip_stress(phones):
    return [p.rstrip("01") for p in phones]


def load_dictionary(path=CMUDICT):
    """{word: [pronunciation (tuple of stressed phones), ...]} in file order, distinct pronunciations."""
    words = {}
    with open(path, encoding="latin-1") as f:
        for line in f:
            e = parse_entry(line)
            if e is None:
                continue
            w, ph = e
            assert set(w) <= set(LETTERS), w
            prons = words.setdefault(w, [])
            if tuple(ph) not in prons:
                prons.append(tuple(ph))
    return words


def load_splits():
    words = load_dictionary()
    out = {"train": [], "valid": [], "test": []}
    for w in sorted(words):
        out[split_of(w)].append((w, words[w]))
    return out


def write_split_tsv(rows, path):
    """word<TAB>pronunciation[ | pronunciation...], phones space-separated with stress digits."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with gzip.GzipFile(path, "wb", mtime=0) as g:
        g.write("".join(w + "\t" + " | ".join(" ".join(p) for p in prons) + "\n" for w, prons in rows).encode("utf-8"))


def read_split_tsv(path):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [(w, [tuple(p.split()) for p in refs.split(" | ")])
                for w, refs in (line.rstrip("\n").split("\t") for line in f)]


def write_committed(splits, out_dir):
    write_split_tsv(splits["test"], os.path.join(out_dir, "test.tsv.gz"))
    write_split_tsv(splits["valid"], os.path.join(out_dir, "valid.tsv.gz"))
    shutil.copyfile(COPYRIGHT, os.path.join(out_dir, "LICENSE"))


# ----------------------------------------------------------------------------- metrics

def edit_distance(a, b):
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def wer_per(predictions, references, stress=True):
    """Word error rate: a word is wrong unless its prediction equals one of its references. Phone error rate:
    sum over words of the edit distance to the closest reference / sum of that reference's length."""
    wrong, dist, length = 0, 0, 0
    for pred, refs in zip(predictions, references):
        pred = list(pred) if stress else strip_stress(pred)
        refs = [list(r) if stress else strip_stress(r) for r in refs]
        best = min(((edit_distance(pred, r), len(r)) for r in refs), key=lambda t: (t[0], -t[1]))
        wrong += best[0] != 0
        dist += best[0]
        length += best[1]
    return wrong / len(predictions), dist / length
