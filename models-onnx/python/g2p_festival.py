#!/usr/bin/python3
"""The peer of the g2p model: Festival's own letter-to-sound rules for the CMU dictionary (Debian festival + festlex-cmu:
cmu_lts_rules.scm, the CART rules trained on CMUDICT 0.4 that Festival uses for words not in its lexicon, with its stress
rules cmulex_mosyl_phstress), run on the same test words, scored like the model (g2p_data.wer_per).

    tools/with-torch models-onnx/python/g2p_festival.py     (writes the "g2p_festival_lts" entry of models-onnx/metrics.json)

Caveat: Festival's rules were trained on the whole dictionary, test words included, so this flatters Festival.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402
import g2p_data as G  # noqa: E402


def festival_lts(words):
    with tempfile.TemporaryDirectory() as d:
        script = os.path.join(d, "lts.scm")
        with open(script, "w") as f:
            f.write("(lex.select 'cmu)\n")
            for w in words:
                f.write(f'(print (cmu_lts_function "{w}" nil))\n')
        out = subprocess.run(["festival", "-b", script], capture_output=True, text=True, check=True).stdout
    preds = {}
    for line in out.splitlines():
        e = G.parse_entry(line)
        if e:
            preds[e[0]] = e[1]
    return [preds[w] for w in words]


def main():
    test = G.read_split_tsv(os.path.join(C.DATA, "g2p", "test.tsv.gz"))
    words, refs = [w for w, _ in test], [r for _, r in test]
    t0 = time.time()
    preds = festival_lts(words)
    seconds = round(time.time() - t0, 1)
    entry = {"test_words": len(words), "seconds": seconds,
             "note": "Festival 2.5 cmu_lts_rules.scm (letter-to-sound CART trained on all of CMUDICT 0.4, test words "
                     "included) + cmulex_mosyl_phstress; scored as g2p"}
    for stress in (False, True):
        wer, per = G.wer_per(preds, refs, stress=stress)
        entry["stress" if stress else "no_stress"] = {"wer": round(wer, 4), "per": round(per, 4)}
    print(json.dumps(entry))
    path = os.path.join(C.ROOT, "metrics.json")
    with open(path) as f:
        metrics = json.load(f)
    metrics["g2p_festival_lts"] = entry
    C.write_json(path, metrics)


if __name__ == "__main__":
    main()
