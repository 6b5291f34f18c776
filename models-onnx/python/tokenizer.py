"""BERT-style tokenization (BasicTokenizer + WordPiece), written out so that the C# side
(Microsoft.ML.Tokenizers.BertTokenizer over the same vocab.txt) gives the same ids, and a small
vocabulary builder.

Conventions (also in each text manifest's "tokenizer" block):
  * vocab.txt: one token per line, the id is the line number; [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4.
  * clean: drop U+0000, U+FFFD and control characters; whitespace (incl. tab/newline) -> space.
  * lower-case, then strip accents (NFD, drop category Mn).
  * CJK ideographs become words of their own; split on whitespace, then every punctuation character
    (ASCII 33-47, 58-64, 91-96, 123-126, or Unicode category P*) is a word of its own.
  * WordPiece: greedy longest-match-first, continuation pieces prefixed "##"; a word longer than
    100 characters, or one that cannot be covered by vocabulary pieces, becomes [UNK].
  * sequence = [CLS] pieces [SEP], pieces truncated to max_length - 2.
"""
import collections
import unicodedata

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PAD, UNK, CLS, SEP, MASK = range(5)
MAX_CHARS_PER_WORD = 100


def _is_whitespace(ch):
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


def _is_control(ch):
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch) in ("Cc", "Cf")


def _is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def basic_tokenize(text, lower_case=True):
    """Text -> list of words (BERT's BasicTokenizer)."""
    out = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or _is_control(ch):
            continue
        if _is_whitespace(ch):
            out.append(" ")
        elif _is_cjk(cp):
            out.append(f" {ch} ")
        else:
            out.append(ch)
    words = []
    for word in "".join(out).split():
        if lower_case:
            word = word.lower()
            word = "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")
        current = []
        for ch in word:
            if _is_punctuation(ch):
                if current:
                    words.append("".join(current))
                    current = []
                words.append(ch)
            else:
                current.append(ch)
        if current:
            words.append("".join(current))
    return words


class WordPieceTokenizer:
    def __init__(self, vocab_tokens, lower_case=True, max_length=128):
        self.tokens = list(vocab_tokens)
        self.ids = {t: i for i, t in enumerate(self.tokens)}
        assert len(self.ids) == len(self.tokens), "duplicate vocabulary entries"
        assert self.tokens[:5] == SPECIAL_TOKENS
        self.lower_case = lower_case
        self.max_length = max_length

    @classmethod
    def from_file(cls, path, **kw):
        with open(path, encoding="utf-8") as f:
            return cls([line.rstrip("\n") for line in f if line.rstrip("\n")], **kw)

    def save(self, path):
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            for t in self.tokens:
                f.write(t + "\n")

    def wordpiece(self, word):
        if len(word) > MAX_CHARS_PER_WORD:
            return [UNK]
        pieces, start = [], 0
        while start < len(word):
            end, found = len(word), None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.ids:
                    found = self.ids[piece]
                    break
                end -= 1
            if found is None:
                return [UNK]
            pieces.append(found)
            start = end
        return pieces

    def tokenize_ids(self, text):
        ids = []
        for w in basic_tokenize(text, self.lower_case):
            ids.extend(self.wordpiece(w))
        return ids

    def encode(self, text, max_length=None):
        """[CLS] pieces [SEP], truncated to max_length (default: the tokenizer's)."""
        n = max_length or self.max_length
        return [CLS] + self.tokenize_ids(text)[: n - 2] + [SEP]

    def batch(self, texts, max_length=None):
        """Pads to the longest row: returns (input_ids, attention_mask) as lists of lists."""
        seqs = [self.encode(t, max_length) for t in texts]
        L = max(len(s) for s in seqs)
        ids = [s + [PAD] * (L - len(s)) for s in seqs]
        mask = [[1] * len(s) + [0] * (L - len(s)) for s in seqs]
        return ids, mask


def build_vocab(texts, size, min_word_count=2, extra_words=(), lower_case=True):
    """A WordPiece vocabulary from training texts: the special tokens, every character seen (and the
    printable ASCII ones) alone and as "##" continuation, then whole words by frequency (count at least
    min_word_count), then the most frequent prefixes and "##" suffixes of the words left out, up to size."""
    counts = collections.Counter()
    for t in texts:
        counts.update(basic_tokenize(t, lower_case))
    for w in extra_words:
        counts.update(basic_tokenize(w, lower_case) * (min_word_count + 1000))
    chars = collections.Counter()
    for w, c in counts.items():
        for ch in w:
            chars[ch] += c
    ascii_chars = [chr(c) for c in range(33, 127) if not (lower_case and chr(c).isupper())]
    char_list = sorted(set(chars) | set(ascii_chars), key=lambda ch: (-chars[ch], ch))
    vocab = list(SPECIAL_TOKENS)
    seen = set(vocab)

    def add(tok):
        if tok not in seen and len(vocab) < size:
            seen.add(tok)
            vocab.append(tok)

    for ch in char_list:
        add(ch)
    for ch in char_list:
        if not _is_punctuation(ch):
            add("##" + ch)
    words = [w for w, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
             if c >= min_word_count and len(w) > 1 and not _is_punctuation(w[0])]
    n_words = int((size - len(vocab)) * 0.8)
    for w in words[:n_words]:
        add(w)
    rest = collections.Counter()
    for w, c in counts.items():
        if w in seen or len(w) < 4:
            continue
        for k in range(2, min(len(w) - 1, 6) + 1):
            rest[w[:k]] += c
            rest["##" + w[-k:]] += c
    for piece, _ in sorted(rest.items(), key=lambda kv: (-kv[1], kv[0])):
        if len(vocab) >= size:
            break
        add(piece)
    return vocab
