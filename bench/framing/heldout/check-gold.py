#!/usr/bin/env python3
"""Check a hand-marked gold statements file against the regulation it marks.

  python3 bench/framing/heldout/check-gold.py <gold.jsonl> <regulation.md>

Every line must be valid JSON with exactly the six keys (clause, kind, actor, action, condition,
text), an allowed kind and a non-empty actor and action. `text` must occur verbatim (Markdown '*'
removed) in one Markdown paragraph of the named section and top-level paragraph, and that
paragraph must carry the clause's deepest designator (or be the section's introduction for a
section-level clause). Each '; '-separated piece of `condition` must occur verbatim in the same
top-level paragraph (folded items and lead-in conditions come from around the clause).
Exits 1 naming every problem.
"""

import json
import re
import sys

KEYS = {"clause", "kind", "actor", "action", "condition", "text"}
KINDS = {"obligation", "prohibition", "permission", "exception", "definition"}


def sections(md):
    out, cur = {}, None
    for para in re.split(r"\n\s*\n", md.replace("*", "")):
        para = " ".join(para.split())
        m = re.match(r"## § (\d+\.\d+)", para)
        if m:
            cur = m.group(1)
            out[cur] = []
        elif cur and para and not para.startswith(">"):
            out[cur].append(para)
    return out


def top_level(paras):
    """Each paragraph with the top-level designator it falls under ('' before the first)."""
    top, out = "", []
    for p in paras:
        m = re.match(r"\(([a-z])\)", p)
        # a top-level designator is the next letter after the current one ("(i)" after "(h)" is
        # top-level; "(i)" after "(a)" is a roman numeral deeper down)
        if m and ord(m.group(1)) == (ord(top) + 1 if top else ord("a")):
            top = m.group(1)
        out.append((top, p))
    return out


def main(gold_path, reg_path):
    with open(reg_path, encoding="utf8") as f:
        secs = {k: top_level(v) for k, v in sections(f.read()).items()}
    problems = []
    with open(gold_path, encoding="utf8") as f:
        gold_lines = f.readlines()
    for n, line in enumerate(gold_lines, 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append(f"line {n}: not JSON ({e})")
            continue
        if set(r) != KEYS:
            problems.append(
                f"line {n}: keys {sorted(r)} are not exactly {sorted(KEYS)}"
            )
            continue
        if r["kind"] not in KINDS:
            problems.append(f"line {n}: kind {r['kind']!r} not allowed")
        for k in ("actor", "action", "text", "clause"):
            if not isinstance(r[k], str) or not r[k].strip():
                problems.append(f"line {n}: {k} must be a non-empty string")
        if r["condition"] is not None and (
            not isinstance(r["condition"], str) or not r["condition"].strip()
        ):
            problems.append(f"line {n}: condition must be null or a non-empty string")
        m = re.match(r"(\d+\.\d+)((?:\([^)]+\))*)$", r["clause"])
        if not m or m.group(1) not in secs:
            problems.append(
                f"line {n}: clause {r['clause']!r} names no section of the regulation"
            )
            continue
        path = re.findall(r"\(([^)]+)\)", m.group(2))
        top = path[0] if path else ""
        scope = [p for t, p in secs[m.group(1)] if t == top]
        if not path:
            scope = scope[:1]  # the section's introduction
        holders = [p for p in scope if r["text"] in p]
        if not holders:
            problems.append(
                f"line {n}: text not verbatim in {r['clause']}'s paragraphs"
            )
        elif path and not any(f"({path[-1]})" in p for p in holders):
            problems.append(
                f"line {n}: the paragraph holding the text does not carry ({path[-1]})"
            )
        if r["condition"]:
            joined = " ".join(p for t, p in secs[m.group(1)] if t == top)
            for piece in r["condition"].split("; "):
                if piece not in joined:
                    problems.append(
                        f"line {n}: condition piece not verbatim in {m.group(1)}({top}): {piece!r}"
                    )
    for p in problems:
        print(p)
    print(f"{'FAILED' if problems else 'ok'}: {gold_path}")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
