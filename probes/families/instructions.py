"""Instruction following with verifiable constraints on one line of text.

What grows (``plan``): the number of simultaneous constraints (``constraints``, the main size:
1 + d up to level 10, then doubling every ten levels, 44 at level 30, 88 at the top 40), the exact word
count the line must have (``words = 2d - 1``) and the forbidden letters
(``forbidden_letters = min(4, d//4)``). Kinds come in with the level: a
required word (level 1, version 5: the only rule, so a 135M model can pass it), an exact word
count (level 2), then the first word, all lower or
upper case, a forbidden letter, the last word, no commas, a maximum word length, words at given
positions (8), a word's exact number of uses (10), one word's first use before another's (12)
and a letter's exact total count (14). Level 30 (the top before the scale was extended,
unchanged since) is 44 such constraints on a 59-word line; the same constraint count formula
continues to the top level 40 (88 constraints, ~5k characters of prompt), except that the line
stays at 59 words (the answer extraction reads 400 characters) and, above level 30, the kinds
change so that the constraints only hold jointly (version 3): the words must come from a listed
vocabulary, exact letter totals are given for ``2 * (d - 30)`` of the letters that two or more
listed words share (all of them when fewer: at the top), and first letters at given positions and first-use orders
fill the rest; no word counts, no words at positions, no required words. Version 2 stated every
word's exact count above 30, which fixed the multiset of words and with it every letter total: a
frontier model passed 2/3 at level 40 by writing the words in blocks. Now the word counts are the
unknowns of an integer system over the vocabulary (letters of a single listed word are never
pinned, so it cannot be peeled off letter by letter), and the line must also hit the initials
at their positions and the orders.

A frontier model without tools passed version 3 up to its top 40 (2/2: it hand-checks the joint
letter totals, positions and orders). Above level 40 (version 4) the constraints are instead a
chain of ``constraints`` edit instructions (94 at level 41, 1,408 at the top 80, doubling every ten
levels) applied in order to a given 59-word start line of words of at most five letters (the
forbidden letters stay out of them): swap two words, reverse a span of up to nine words, move a
word to another position, exchange two words everywhere. Each edit acts on the line the earlier
ones left, so every edit is an exact dependent step; the answer is the final line (<= 354
characters). Its scored constraints (not shown) are the word count and the word at each position.
Levels 1..40 are generated exactly as in version 3.

The generator writes a line first and states only facts true of it, so a reference answer is
real. Partial credit (documented): the score is the fraction of constraints the final answer
line satisfies; only all of them counts as a pass. ``Verdict.canonical`` is the bit string of
satisfied constraints (e.g. ``1101``), comparable across renderings.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from probes.base import Item, ProbeFamily, Problem, Rendering, Verdict
from probes.common import answer_instruction, format_for, pick, wrap_answer
from probes.extract import extract_final

VOCAB = (
    "river", "stone", "lamp", "quiet", "morning", "garden", "silver", "cloud", "window", "bread",
    "market", "green", "small", "happy", "road", "north", "story", "music", "paper", "warm",
    "island", "tower", "bird", "snow", "field", "honest", "gentle", "light", "moon", "coat",
    "cart", "hill", "door", "old", "blue", "tall", "slow", "bright", "sand", "drum", "rain",
    "corn", "goat", "mill", "bell", "song", "ship", "salt", "wind", "plum", "fox", "owl", "cup",
)
TOPICS = ("a harbour at dawn", "a lost umbrella", "a village fair", "an old clock", "a mountain hut",
          "a night train", "a bakery", "a lighthouse")
_FORBID_POOL = "eaoinrstlkwyz"
_WORD = re.compile(r"[A-Za-z']+")
#: Kinds stated at most once, with the level each comes in at.
SINGLE_FROM = {"start": 2, "case": 3, "end": 5, "nocomma": 6, "maxlen": 7}
#: Kinds that fill the remaining constraints (cycling), with the level each comes in at.
REPEATED_FROM = {"include": 1, "position": 8, "count": 10, "before": 12, "letters": 14}

#: A constraint: its kind and up to two arguments.
Constraint = tuple[str, str | int, str | int]


#: The top before the scale was extended: levels up to here are unchanged.
OLD_TOP = 30


#: The last level generated as in version 3 (calibrated: a frontier model passed 40); above it the
#: line is the result of a list of edits.
V3_TOP = 40
#: Above V3_TOP the line's words are at most this long, so 59 words fit the 400-character answer.
EDIT_MAXLEN = 5
#: The widest span a "reverse" edit turns round.
MAX_SPAN = 9


def constraints_at(d: int) -> int:
    """Constraints at level ``d``: 1 at level 1 (include one word: version 5), 1 + d up to level 10,
    then doubling every ten levels (above level 40 they are edit instructions applied in order)."""
    if d == 1:
        return 1
    return 1 + d if d <= 10 else int(11 * 2 ** ((d - 10) / 10))


def plan_at(d: int) -> dict[str, int]:
    """The size parameters at level ``d`` (see the module docstring)."""
    # Above the old top the line stays at 59 words: the shared answer extraction reads at most 400
    # characters, and more constraints on the same words is the harder search anyway.
    return {"constraints": constraints_at(d), "words": min(2 * d - 1, 2 * OLD_TOP - 1),
            "forbidden_letters": min(4, d // 4)}


def check(c: tuple[str, str | int] | Constraint, text: str) -> bool:
    """Whether ``text`` satisfies one constraint."""
    parts: tuple[str | int, ...] = tuple(c)
    kind, arg = parts[0], parts[1]
    extra = parts[2] if len(parts) > 2 else ""
    words = _WORD.findall(text)
    low = [w.casefold() for w in words]
    if kind == "words":
        return len(text.split()) == arg
    if kind == "include":
        return str(arg) in low
    if kind == "lower":
        return any(ch.isalpha() for ch in text) and text == text.lower()
    if kind == "upper":
        return any(ch.isalpha() for ch in text) and text == text.upper()
    if kind == "forbid":
        return str(arg) not in text.casefold()
    if kind == "start":
        return bool(low) and low[0] == arg
    if kind == "end":
        return bool(low) and low[-1] == arg
    if kind == "nocomma":
        return "," not in text
    if kind == "position":
        return len(low) >= int(arg) and low[int(arg) - 1] == extra
    if kind == "count":
        return low.count(str(arg)) == extra
    if kind == "before":
        return str(arg) in low and str(extra) in low and low.index(str(arg)) < low.index(str(extra))
    if kind == "letters":
        return text.casefold().count(str(arg)) == extra
    if kind == "only":
        allowed = set(str(arg).split())
        return bool(low) and all(w in allowed for w in low)
    if kind == "initial":
        return len(low) >= int(arg) and low[int(arg) - 1].startswith(str(extra))
    return all(len(w) <= int(arg) for w in words)


def _times(n: str | int) -> str:
    return "once" if n == 1 else "twice" if n == 2 else f"{n} times"


def say(c: tuple[str, str | int] | Constraint, style: int) -> str:
    """A constraint in words (style 0 plain, 1 paraphrased)."""
    parts: tuple[str | int, ...] = tuple(c)
    kind, arg = parts[0], parts[1]
    extra = parts[2] if len(parts) > 2 else ""
    plain = {
        "words": f"use exactly {arg} word{'' if arg == 1 else 's'}", "include": f"include the word '{arg}'",
        "lower": "write everything in lowercase", "upper": "write everything in UPPERCASE",
        "forbid": f"do not use the letter '{arg}' anywhere", "start": f"start with the word '{arg}'",
        "end": f"end with the word '{arg}'", "nocomma": "use no commas",
        "maxlen": f"use no word longer than {arg} letters",
        "position": f"word number {arg} (counting from 1) must be '{extra}'",
        "count": f"use the word '{arg}' exactly {_times(extra)}",
        "before": f"the first '{arg}' must come before the first '{extra}'",
        "letters": f"the letter '{arg}' must appear exactly {_times(extra)} in total (any case)",
        "only": f"use only words from this list (each as often as you like): {', '.join(str(arg).split())}",
        "initial": f"word number {arg} (counting from 1) must start with the letter '{extra}'",
    }
    para = {
        "words": f"the text must be {arg} word{'' if arg == 1 else 's'} long, no more and no fewer",
        "include": f"the word '{arg}' has to appear", "lower": "no capital letters at all",
        "upper": "every letter must be a capital", "forbid": f"the letter '{arg}' is banned",
        "start": f"the first word must be '{arg}'", "end": f"the final word must be '{arg}'",
        "nocomma": "commas are not allowed", "maxlen": f"every word has at most {arg} letters",
        "position": f"the word in position {arg} has to be '{extra}'",
        "count": f"'{arg}' occurs {_times(extra)}, no more and no fewer",
        "before": f"'{arg}' shows up before '{extra}' does (first uses)",
        "letters": f"the letter '{arg}' occurs {_times(extra)} altogether, capitals included",
        "only": f"every word must come from this list, repeats allowed: {', '.join(str(arg).split())}",
        "initial": f"the word in position {arg} begins with '{extra}'",
    }
    return (para if style else plain)[str(kind)]


def _repeated(kind: str, low: list[str], forbidden: list[str], rng: random.Random) -> Constraint:
    """A true statement of a repeatable kind about the line ``low`` (lower-case words)."""
    if kind == "include":
        return ("include", pick(rng, low), "")
    if kind == "position":
        k = rng.randint(1, len(low))
        return ("position", k, low[k - 1])
    if kind == "count":
        w = pick(rng, low)
        return ("count", w, low.count(w))
    if kind == "before":
        firsts = list(dict.fromkeys(low))
        if len(firsts) < 2:
            return ("include", low[0], "")
        i, j = sorted(rng.sample(range(len(firsts)), 2))
        return ("before", firsts[i], firsts[j])
    text = " ".join(low)
    letter = pick(rng, sorted({ch for ch in text if ch.isalpha()} - set(forbidden)))
    return ("letters", letter, text.count(letter))


def pinned_letters(d: int) -> int:
    """Above the old top: how many letters get an exact total (every letter of the line when fewer)."""
    return 2 * (d - OLD_TOP) if d > OLD_TOP else 0


def _joint(rng: random.Random, low: list[str], palette: list[str], d: int, fill: int) -> list[Constraint]:
    """Constraints above the old top that must hold jointly: no word counts, no fixed words.

    The words must come from a listed vocabulary; exact letter totals for ``pinned_letters(d)``
    letters (all of the line's letters at the top) then tie every word choice to every other, an
    integer system over the vocabulary; first letters at some positions and first-use orders
    fill the remaining constraints. Version 2 stated each word's exact count, which fixed the
    multiset of words (and so every letter total): a frontier model passed 2/3 at level 40 by
    writing the words in blocks.
    """
    out: list[Constraint] = [("only", " ".join(sorted(palette)), "")]
    text = " ".join(low)
    # Only letters shared by two or more listed words: a letter of one word alone would state
    # that word's count, and peeling such letters off would make the system triangular.
    letters = sorted({ch for ch in text if ch.isalpha() and sum(ch in w for w in palette) >= 2})
    rng.shuffle(letters)
    out += [("letters", ch, text.count(ch)) for ch in sorted(letters[: pinned_letters(d)])]
    positions = list(range(1, len(low) + 1))
    rng.shuffle(positions)
    firsts = list(dict.fromkeys(low))
    pairs = [(firsts[i], firsts[j]) for i in range(len(firsts)) for j in range(i + 1, len(firsts))]
    rng.shuffle(pairs)
    while len(out) < fill and (positions or pairs):
        if positions and (len(out) % 2 == 0 or not pairs):
            k = positions.pop()
            out.append(("initial", k, low[k - 1][0]))
        else:
            a, b = pairs.pop()
            out.append(("before", a, b))
    return out[:fill]


#: An edit instruction above V3_TOP: its kind and two arguments (positions from 1, or two words).
Edit = tuple[str, int | str, int | str]


def apply_edit(line: list[str], edit: Edit) -> list[str]:
    """The line after one edit; every edit keeps the word count."""
    kind, a, b = edit
    out = list(line)
    if kind == "swap":
        i, j = int(a) - 1, int(b) - 1
        out[i], out[j] = out[j], out[i]
    elif kind == "reverse":
        i, j = int(a) - 1, int(b)
        out[i:j] = out[i:j][::-1]
    elif kind == "move":
        word = out.pop(int(a) - 1)
        out.insert(int(b) - 1, word)
    else:  # exchange two words everywhere
        out = [str(b) if w == a else str(a) if w == b else w for w in out]
    return out


def say_edit(edit: Edit) -> str:
    """One edit instruction in the prompt's short notation (``EDIT_LEGEND`` says what each means)."""
    return " ".join(str(x) for x in edit)


#: What each edit in the short notation does, stated once in the prompt.
EDIT_LEGEND = ("'swap i j' swaps word i and word j; 'reverse i j' reverses the order of words i to j; "
               "'move i j' takes out word i and puts it back so that it becomes word j; 'exchange x y' "
               "turns every 'x' into 'y' and every 'y' into 'x'")


def _edits(rng: random.Random, palette: list[str], words: int, n: int) -> tuple[list[str], list[Edit], list[str]]:
    """Above version 3's levels: a start line, ``n`` edits drawn against it, and the line they make."""
    start = [pick(rng, palette) for _ in range(words)]
    line, edits = list(start), list[Edit]()
    for _ in range(n):
        roll = rng.random()
        i, j = sorted(rng.sample(range(1, words + 1), 2))
        edit: Edit
        if roll < 0.35:
            edit = ("swap", i, j) if rng.random() < 0.5 else ("swap", j, i)
        elif roll < 0.6:
            edit = ("reverse", i, min(j, i + rng.randint(2, MAX_SPAN - 1)))
        elif roll < 0.85:
            edit = ("move", i, j) if rng.random() < 0.5 else ("move", j, i)
        else:
            present = sorted(set(line))
            x = pick(rng, present)
            edit = ("exchange", x, pick(rng, [w for w in palette if w != x]))
        edits.append(edit)
        line = apply_edit(line, edit)
    return start, edits, line


@dataclass(frozen=True)
class InstructionFollowing(ProbeFamily):
    """Write one line of text that satisfies verifiable constraints."""

    name = "instruction_following"
    skill = "instruction_following"
    version = "5"
    top = 80
    grows = "constraints"
    formula = ("constraints = 1 at d=1 (include a word), 1 + d to d=10, then floor(11 * 2**((d-10)/10)); "
               "words = min(2d - 1, 59); "
               "forbidden_letters = min(4, d//4); d=31..40: listed vocabulary, exact totals for 2*(d-30) "
               "shared letters, initials at positions and first-use orders, no word counts; above d=40: "
               "the constraints are edits (swap, reverse, move, exchange) applied in order to a given line")

    def plan(self, difficulty: int) -> dict[str, int]:
        return plan_at(difficulty)

    def chance(self, difficulty: int) -> float:
        return 0.0

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        p = self.plan(difficulty)
        singles = [k for k, start in SINGLE_FROM.items() if difficulty >= start]
        repeated = [k for k, start in REPEATED_FROM.items() if difficulty >= start]
        maxlen = rng.randint(5, 6) if "maxlen" in singles else 99
        # Common letters make the ban bite; redraw until enough vocabulary survives the bans.
        for _ in range(50):
            forbidden = rng.sample(_FORBID_POOL, p["forbidden_letters"])
            usable = [w for w in VOCAB if len(w) <= maxlen and not any(ch in w for ch in forbidden)]
            if len(usable) >= 8:
                break
        else:
            forbidden = list("zkwy"[: p["forbidden_letters"]])
            usable = [w for w in VOCAB if len(w) <= maxlen and not any(ch in w for ch in forbidden)]
        # A small working vocabulary, so words repeat and counts and orders are worth stating.
        palette = rng.sample(usable, min(len(usable), 3 + p["words"] // 3))
        low = [pick(rng, palette) for _ in range(p["words"])]
        upper = "case" in singles and rng.random() < 0.5
        # Level 1 (version 5) states one rule, include a word: the word count comes in at level 2.
        constraints: list[Constraint] = [("words", p["words"], "")] if difficulty > 1 else []
        for kind in singles:
            if kind == "start":
                constraints.append(("start", low[0], ""))
            elif kind == "end":
                constraints.append(("end", low[-1], ""))
            elif kind == "case":
                constraints.append(("upper" if upper else "lower", "", ""))
            elif kind == "maxlen":
                constraints.append(("maxlen", maxlen, ""))
            else:
                constraints.append((kind, "", ""))
        if difficulty > V3_TOP:
            return self._edited(rng, usable, p)
        constraints += [("forbid", ch, "") for ch in forbidden]
        if difficulty > OLD_TOP:
            constraints += _joint(rng, low, palette, difficulty, p["constraints"] - len(constraints))
            text = " ".join(low)
            text = text.upper() if upper else text
            return Problem(facts={"constraints": constraints, "topic": pick(rng, TOPICS)}, answer=text)
        seen = set(constraints)
        fill = p["constraints"] - len(constraints)
        i = 0
        while fill > 0:
            c = _repeated(repeated[i % len(repeated)], low, forbidden, rng)
            i += 1
            if c not in seen or i > 50 * p["constraints"]:
                seen.add(c)
                constraints.append(c)
                fill -= 1
        text = " ".join(low)
        text = text.upper() if upper else text
        topic = pick(rng, TOPICS)
        return Problem(facts={"constraints": constraints, "topic": topic}, answer=text)

    @staticmethod
    def _edited(rng: random.Random, usable: list[str], p: dict[str, int]) -> Problem:
        """Above version 3's levels: the line a start line becomes after ``constraints`` edits.

        The stated rules are the start line and the edits; the scored constraints (not shown) are
        the word count and the word at every position of the resulting line.
        """
        short = [w for w in usable if len(w) <= EDIT_MAXLEN]
        palette = rng.sample(short, min(len(short), 12))
        start, edits, line = _edits(rng, palette, p["words"], p["constraints"])
        constraints: list[Constraint] = [("words", p["words"], "")]
        constraints += [("position", k, w) for k, w in enumerate(line, 1)]
        return Problem(facts={"constraints": constraints, "topic": pick(rng, TOPICS), "start": start,
                              "edits": edits}, answer=" ".join(line))

    def _render_edits(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        f = problem.facts
        kind = format_for(novelty, rng, ("tag", "json"))
        fmt = answer_instruction(kind, "text")
        steps = "\n".join(f"{i}. {say_edit(e)}" for i, e in enumerate(f["edits"], 1))
        task = (f"Start from this line of {len(f['start'])} words:\n{' '.join(f['start'])}\n"
                f"Apply these {len(f['edits'])} edits in order; each one acts on the line as the edits before "
                f"it left it, and word numbers count from 1 ({EDIT_LEGEND}):\n{steps}\n"
                f"Write the line after the last edit, in lowercase, words separated by single spaces.")
        intro = {0: f"A line of text about {f['topic']} is built by editing.",
                 1: f"Follow the editing instructions below to produce one line about {f['topic']}.",
                 2: f"The subject, which matters less than the edits, is {f['topic']}.",
                 3: (f"A telegraph clerk in a fantasy kingdom garbles a message about {f['topic']} by a fixed "
                     f"routine, and you must predict the garbled message.")}[novelty]
        return Rendering(prompt=f"{intro}\n{task} {fmt}", answer=wrap_answer(kind, problem.answer))

    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        if "edits" in problem.facts:
            return self._render_edits(problem, novelty, rng)
        constraints: list[Constraint] = list(problem.facts["constraints"])
        topic = problem.facts["topic"]
        kind = format_for(novelty, rng, ("tag", "json"))
        fmt = answer_instruction(kind, "text")
        if novelty == 2:
            rng.shuffle(constraints)
        rules = [say(c, 1 if novelty in (1, 2) else 0) for c in constraints]
        if novelty == 0 and len(constraints) == 1:  # level 1: one word to include, asked in one sentence
            prompt = f"Write one sentence about {topic} that uses the word '{constraints[0][1]}'. {fmt}"
        elif novelty == 0:
            listed = "\n".join(f"- {r}" for r in rules)
            prompt = f"Write a single line of text about {topic}. Rules:\n{listed}\n{fmt}"
        elif novelty == 1:
            prompt = f"Compose one line about {topic}; " + "; ".join(rules) + f". {fmt}"
        elif novelty == 2:
            listed = "\n".join(f"({i}) {r}" for i, r in enumerate(rules, 1))
            prompt = (f"Constraints, in no particular order:\n{listed}\nThe subject, which matters less "
                      f"than the constraints, is {topic}; it is fine if the line reads oddly. {fmt}")
        else:
            listed = "\n".join(f"* {r}" for r in rules)
            prompt = (f"A telegraph clerk in a fantasy kingdom charges by the rule, and a customer wants "
                      f"a message about {topic} that obeys all of these:\n{listed}\n{fmt}")
        return Rendering(prompt=prompt, answer=wrap_answer(kind, problem.answer))

    def score(self, item: Item, response: str) -> Verdict:
        final = extract_final(response)
        if final is None:
            return Verdict(0.0, None, None)
        bits = [check(c, final) for c in item.problem.facts["constraints"]]
        canonical = "".join("1" if b else "0" for b in bits)
        return Verdict(sum(bits) / len(bits), final, canonical)
