#!/usr/bin/env python3
"""Deterministic inputs for benches/run.sh (issue 7): held-out queries, a shipment batch and a
generated large watchlist, all from the OFAC SDN legacy CSV files and fixed seeds.

Not for: measuring anything (run.sh, examples/bench_queries.rs and benches/rapidfuzz_bench.py do).
Standard library only, so it runs with the system python3.

  gen.py inputs OFAC_DIR OUT_DIR --rows N --queries Q --seed S
      OUT_DIR/names.tsv     every OFAC name and alias: ent_num, kind, name
      OUT_DIR/queries.tsv   held-out queries: query, label ent_num (empty: unlisted), how made
      OUT_DIR/batch.csv     N shipment rows, four parties each
  gen.py scale OFAC_DIR OUT_DIR --names N --queries Q --seed S
      OUT_DIR/list/sdn.csv  a generated list of N names in the OFAC legacy layout
      OUT_DIR/queries.tsv   held-out queries against it (same columns as above)
"""

import argparse
import bisect
import collections
import csv
import os
import random
import re

KINDS = {"individual": "person", "-0-": "org", "vessel": "vessel", "aircraft": "aircraft"}

# Legal forms as OFAC writes them, and how a shipment export might write the same form instead.
LEGAL_FORMS = {
    "LTD": ["LIMITED", ""], "LTD.": ["LIMITED", "LTD", ""], "LIMITED": ["LTD", ""],
    "S.A.": ["SA", ""], "SA": ["S.A.", ""], "S.A": ["SA", ""], "INC.": ["INC", "INCORPORATED", ""],
    "INC": ["INC.", ""], "CORP.": ["CORPORATION", ""], "CO.": ["COMPANY", ""], "LLC": ["L.L.C.", ""],
    "GMBH": ["G.M.B.H.", ""], "C.A.": ["CA", ""], "S.L.": ["SL", ""], "OOO": ["LLC", ""],
    "JSC": ["AO", ""], "OJSC": ["OAO", ""], "CJSC": ["ZAO", ""], "C.V.": ["CV", ""],
    "S.R.L.": ["SRL", ""], "PLC": ["P.L.C.", ""], "FZE": [""], "LLP": [""], "AG": [""],
}

# Spelling changes that transliteration makes (Cyrillic and Arabic names written by different hands).
TRANSLIT = [
    ("OV", "OFF"), ("EV", "EFF"), ("KH", "H"), ("SH", "SCH"), ("CH", "TCH"), ("Y", "I"), ("II", "IY"),
    ("J", "DZH"), ("OU", "U"), ("EE", "I"), ("PH", "F"), ("X", "KS"), ("C", "K"), ("Q", "K"),
    ("MOHAMMED", "MUHAMMAD"), ("MOHAMMAD", "MUHAMMAD"), ("MUHAMMAD", "MOHAMED"), ("AHMED", "AHMAD"),
    ("AL-", "EL-"), ("ABDUL ", "ABD AL "), ("YU", "JU"), ("YA", "JA"), ("TS", "TZ"), ("W", "V"),
]

# Ordinary, unlisted parties of an export: European and Asian trading partners.
GIVEN = """Anna Peter Thomas Maria Jan Lukas Sofia Emma Paul Felix Laura Julia David Daniel Sarah
Michael Andreas Stefan Martin Claudia Petra Sabine Karin Jens Lars Erik Nils Ingrid Astrid Pierre
Jean Claire Marie Louis Camille Hugo Marco Luca Giulia Francesca Paolo Carlos Lucia Pablo Elena
Javier Wei Li Ming Hiroshi Yuki Kenji Haruto Min-jun Ji-woo Raj Priya Arjun Ananya Mehmet Ayse
Olga Irina Dmitri Tomasz Katarzyna Piotr Jakub""".split()
SURNAMES = """Mueller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch
Richter Klein Wolf Neumann Schwarz Braun Hofmann Hartmann Lange Werner Krause Lehmann Koehler Berg
Johansson Andersson Nilsson Larsen Jensen Hansen Dubois Moreau Laurent Lefebvre Rossi Bianchi
Romano Colombo Garcia Martinez Lopez Gonzalez Fernandez Smith Jones Taylor Brown Wilson Evans
Walker Wright Chen Wang Zhang Liu Tanaka Suzuki Sato Kim Park Lee Patel Sharma Gupta Yilmaz Kaya
Demir Nowak Kowalski Novak Horvat Kovacs Nagy Popescu Ionescu Jansen Visser Bakker""".split()
STEMS = """Nordic Alpine Baltic Hanse Rhein Danube Atlas Orion Vega Polaris Aurora Helios Apex
Summit Pinnacle Vertex Crest Harbor Bay Bridge River Lake Forest Oak Cedar Maple Granite Silver
Golden Blue Green Red Star Sun Moon Delta Sigma Omega Nova Prime Core Micro Macro Precision
Dynamic Smart Bright Clear Rapid Swift Global United Pacific Atlantic Euro Asia Continental
Meridian Horizon Zenith Quantum Vector Matrix Pixel Photon Ion Fusion Kinetic Stellar Titan
Falcon Eagle Phoenix Lynx Wolf Bear Fox Hawk Condor""".split()
SECTORS = """Components Electronics Elektronik Technik Systems Instruments Supply Trading Industries
Solutions Engineering Automation Devices Controls Semiconductors Optics Tools Machinery Parts
Distribution Logistics Medical Energy Robotics Sensors Materials Werkzeuge Handel Services""".split()
FORMS = """GmbH AG Ltd LLC Inc SA SAS SRL BV AB Oy A/S Sp.z.o.o. s.r.o. Kft KG Pte.Ltd. Co.Ltd. LLP
Corp""".split()
CITIES = """Stuttgart Hamburg Munich Lyon Milan Turin Madrid Gothenburg Oslo Rotterdam Gdansk Brno
Vienna Zurich Shenzhen Osaka Busan Pune Izmir Almaty""".split()


def read_ofac(ofac_dir):
    """(ent_num, kind, name) for every SDN name and alias; primary names first."""
    def path(name):
        for f in os.listdir(ofac_dir):
            if f.lower() == name:
                return os.path.join(ofac_dir, f)
        raise SystemExit(f"{ofac_dir}: no {name}")
    kinds, out = {}, []
    with open(path("sdn.csv"), encoding="latin-1", newline="") as f:
        for r in csv.reader(f):
            if len(r) < 3:
                continue
            kinds[r[0].strip()] = KINDS.get(r[2].strip(), "org")
            out.append((r[0].strip(), kinds[r[0].strip()], r[1].strip()))
    with open(path("alt.csv"), encoding="latin-1", newline="") as f:
        for r in csv.reader(f):
            if len(r) >= 4 and r[0].strip() in kinds:
                out.append((r[0].strip(), kinds[r[0].strip()], r[3].strip()))
    return out


def tokens(name):
    return [t for t in re.split(r"[\s,]+", name) if t]


# --- perturbations: each takes (rng, name, kind) and returns the new name or None if it does not apply


def typo(rng, name, kind):
    words = name.split(" ")
    idx = [i for i, w in enumerate(words) if sum(c.isalpha() for c in w) >= 5]
    if not idx:
        return None
    i = rng.choice(idx)
    w = list(words[i])
    p = rng.randrange(1, len(w) - 1)
    op = rng.randrange(4)
    if op == 0:
        w[p] = rng.choice("AEIOUNRSTLK")
    elif op == 1:
        del w[p]
    elif op == 2:
        w.insert(p, w[p])
    else:
        w[p], w[p + 1] = w[p + 1], w[p]
    words[i] = "".join(w)
    return " ".join(words)


def translit(rng, name, kind):
    hits = [(a, b) for a, b in TRANSLIT if a in name.upper()]
    if not hits:
        return None
    a, b = rng.choice(hits)
    return name.upper().replace(a, b, 1)


def word_order(rng, name, kind):
    if kind == "person" and "," in name:
        surname, given = name.split(",", 1)
        return f"{given.strip()} {surname.strip()}"
    words = name.split(" ")
    if len(words) < 2:
        return None
    i = rng.randrange(len(words) - 1)
    words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


def drop_part(rng, name, kind):
    """Drops a middle name of a person, or the legal form of an organization (or writes it another way)."""
    if kind == "person":
        if "," not in name:
            return None
        surname, given = name.split(",", 1)
        g = given.split()
        if len(g) < 2:
            return None
        del g[rng.randrange(1, len(g))]
        return f"{surname}, {' '.join(g)}"
    words = [w for w in re.split(r"\s+", name.replace(",", " ")) if w]
    forms = [i for i, w in enumerate(words) if w.upper() in LEGAL_FORMS]
    if not forms:
        return None
    i = rng.choice(forms)
    repl = rng.choice(LEGAL_FORMS[words[i].upper()])
    words[i] = repl
    return " ".join(w for w in words if w)


PERTURBATIONS = [("typo", typo), ("translit", translit), ("order", word_order), ("drop", drop_part)]


def perturb(rng, name, kind):
    """One or two perturbations; the label says which."""
    applied = []
    for _ in range(1 + (rng.random() < 0.3)):
        order = PERTURBATIONS[:]
        rng.shuffle(order)
        for label, fn in order:
            new = fn(rng, name, kind)
            if new and new != name:
                name, applied = new, applied + [label]
                break
    return name, "+".join(applied) or "exact"


def unlisted(rng):
    """An ordinary company or person name that no list holds (mostly unique)."""
    r = rng.random()
    if r < 0.35:
        given = rng.choice(GIVEN)
        if rng.random() < 0.2:
            given += " " + rng.choice(GIVEN)
        return f"{given} {rng.choice(SURNAMES)}"
    if r < 0.55:
        return f"{rng.choice(SURNAMES)} {rng.choice(SECTORS)} {rng.choice(FORMS)}"
    if r < 0.75:
        return f"{rng.choice(STEMS)} {rng.choice(CITIES)} {rng.choice(SECTORS)} {rng.choice(FORMS)}"
    stem = rng.choice(STEMS) + rng.choice(["", "tec", "tron", "ix", "on", "a"])
    return f"{stem} {rng.choice(STEMS)} {rng.choice(SECTORS)} {rng.choice(FORMS)}"


def listed_queries(rng, names, count):
    """Perturbed listed names labelled with their entity: never the listed spelling itself."""
    out = []
    while len(out) < count:
        ent, kind, name = rng.choice(names)
        if kind in ("vessel", "aircraft"):
            continue
        query, how = perturb(rng, name, kind)
        if how != "exact":
            out.append((query, ent, how))
    return out


def write_queries(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_NONE, escapechar="\\")
        w.writerow(["query", "label", "how"])
        seen = set()
        for q, label, how in rows:
            q = q.replace("\t", " ")
            if q in seen:  # unique, so that no answer comes from the screener's result cache
                continue
            seen.add(q)
            w.writerow([q, label, how])


def cmd_inputs(a):
    rng = random.Random(a.seed)
    names = read_ofac(a.ofac)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "names.tsv"), "w", encoding="utf-8") as f:
        for ent, kind, name in names:
            f.write(f"{ent}\t{kind}\t{name}\n")
    listed = listed_queries(rng, names, a.queries * 2 // 3)
    ordinary = [(unlisted(rng), "", "unlisted") for _ in range(a.queries - len(listed))]
    write_queries(os.path.join(a.out, "queries.tsv"), listed + ordinary)

    # The batch: 4 parties a row. 2% listed names (most perturbed), the rest ordinary names; a
    # party repeats an earlier one with probability `repeat` (customers recur in an export).
    used, total, repeats = [], 0, 0
    with open(os.path.join(a.out, "batch.csv"), "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["Shipment ID", "Shipper", "Consignee", "End User", "Notify Party"])
        for row in range(a.rows):
            parties = []
            for _ in range(4):
                total += 1
                if used and rng.random() < a.repeat:
                    parties.append(rng.choice(used))
                    repeats += 1
                    continue
                if rng.random() < 0.02:
                    ent, kind, name = rng.choice(names)
                    name = perturb(rng, name, kind)[0] if rng.random() < 0.7 else name
                else:
                    name = unlisted(rng)
                used.append(name)
                parties.append(name)
            w.writerow([f"SHP-{row + 1:07d}"] + parties)
    unique = len(set(p for p in used))
    print(f"batch: {a.rows} rows, {total} parties, {repeats} drawn as repeats, {unique} distinct names "
          f"({100 * (1 - unique / total):.1f}% of parties repeat an earlier name)")


class Sampler:
    """Draws from a frequency table in O(log n)."""

    def __init__(self, counter):
        self.items = list(counter.keys())
        self.cum, t = [], 0
        for k in self.items:
            t += counter[k]
            self.cum.append(t)

    def draw(self, rng):
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.cum[-1])]


class KindModel:
    """The shape of one kind's names: token counts, token frequencies, lengths and letters."""

    def __init__(self, names):
        self.count = collections.Counter()
        self.freq = [collections.Counter(), collections.Counter()]  # persons: surname part, given part
        self.length = collections.Counter()
        self.first = collections.Counter()
        self.bigram = collections.defaultdict(collections.Counter)
        self.person = False
        for name in names:
            parts = name.split(",", 1) if "," in name else [name]
            self.count[sum(len(tokens(p)) for p in parts)] += 1
            for pi, part in enumerate(parts[:2]):
                for t in tokens(part):
                    self.freq[pi][t] += 1
                    self.length[len(t)] += 1
                    if t.isalpha():
                        t = t.upper()
                        self.first[t[0]] += 1
                        for x, y in zip(t, t[1:]):
                            self.bigram[x][y] += 1
        tokens_total = sum(sum(f.values()) for f in self.freq)
        hapax = sum(1 for f in self.freq for c in f.values() if c == 1)
        # Share of token occurrences drawn from the real table; the rest are new words, at the
        # rate the real list meets words it has seen only once (its vocabulary keeps growing).
        self.known = 1 - hapax / max(tokens_total, 1)
        self.s_count = Sampler(self.count)
        self.s_freq = [Sampler(f) if f else None for f in self.freq]
        self.s_length = Sampler(self.length)
        self.s_first = Sampler(self.first)
        self.s_bigram = {k: Sampler(v) for k, v in self.bigram.items()}

    def new_word(self, rng):
        n = max(2, self.s_length.draw(rng))
        w = self.s_first.draw(rng)
        while len(w) < n:
            s = self.s_bigram.get(w[-1])
            w += s.draw(rng) if s else self.s_first.draw(rng)
        return w

    def token(self, rng, part):
        table = self.s_freq[part] or self.s_freq[0]
        if rng.random() < self.known:
            return table.draw(rng)
        # OFAC writes surnames and organizations in capitals, given names capitalised.
        w = self.new_word(rng)
        return w.capitalize() if part == 1 else w

    def name(self, rng, person):
        n = max(1, self.s_count.draw(rng))
        if person and n >= 2 and self.s_freq[1]:
            surname = self.token(rng, 0)
            return surname + ", " + " ".join(self.token(rng, 1) for _ in range(n - 1))
        return " ".join(self.token(rng, 0) for _ in range(n))


def cmd_scale(a):
    rng = random.Random(a.seed)
    names = read_ofac(a.ofac)
    by_kind = collections.defaultdict(list)
    for _, kind, name in names:
        by_kind[kind].append(name)
    models = {k: KindModel(v) for k, v in by_kind.items()}
    kinds = Sampler(collections.Counter({k: len(v) for k, v in by_kind.items()}))
    per_entity = Sampler(collections.Counter(collections.Counter(e for e, _, _ in names).values()))
    out = os.path.join(a.out, "list")
    os.makedirs(out, exist_ok=True)
    typ = {v: k for k, v in KINDS.items()}
    generated, ent = [], 0
    with open(os.path.join(out, "sdn.csv"), "w", encoding="latin-1", errors="replace", newline="") as f, \
            open(os.path.join(out, "alt.csv"), "w", encoding="latin-1", errors="replace", newline="") as g:
        alt = 0
        while len(generated) < a.names:
            ent += 1
            kind = kinds.draw(rng)
            model = models[kind]
            for i in range(per_entity.draw(rng)):
                name = model.name(rng, kind == "person").replace('"', "")
                generated.append((str(ent), kind, name))
                if i == 0:
                    f.write(f'{ent},"{name}","{typ[kind]}","GEN",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n')
                else:
                    alt += 1
                    g.write(f'{ent},{alt},"aka","{name}",-0- \n')
                if len(generated) >= a.names:
                    break
    held = listed_queries(rng, generated, a.queries * 2 // 3)
    ordinary = [(unlisted(rng), "", "unlisted") for _ in range(a.queries - len(held))]
    write_queries(os.path.join(a.out, "queries.tsv"), held + ordinary)
    vocab = len({t for _, _, n in generated for t in tokens(n)})
    print(f"scale: {len(generated)} names, {ent} entities, vocabulary {vocab}; "
          f"share of tokens from the real table: " +
          ", ".join(f"{k} {m.known:.2f}" for k, m in sorted(models.items())))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    # subcommand: its own options (name, type, default) besides OFAC_DIR and OUT_DIR
    options = {
        "inputs": [("--rows", int, 5000), ("--queries", int, 1500), ("--repeat", float, 0.2), ("--seed", int, 7)],
        "scale": [("--names", int, 100_000), ("--queries", int, 300), ("--seed", int, 11)],
    }
    for cmd, opts in options.items():
        c = sub.add_parser(cmd)
        c.add_argument("ofac")
        c.add_argument("out")
        for name, typ, default in opts:
            c.add_argument(name, type=typ, default=default)
    a = p.parse_args()
    {"inputs": cmd_inputs, "scale": cmd_scale}[a.cmd](a)


if __name__ == "__main__":
    main()
