"""Offline movie script: a deterministic planner that turns one prompt into a style sheet and a scene list.

Offline mode has no language model, yet a movie still needs scenes that belong together and narration that fits
them. So the planner works from the prompt's own words only, and always the same way (no randomness beyond a
sha256 of the prompt), which also keeps every downstream asset cacheable:

* **Beats.** The prompt is split into sentences; when there are fewer sentences than scenes, the longest ones are
  split again at clause boundaries (commas, "and then", "while" ...). Beats are spread over the scenes in order;
  a scene left without a beat of its own shows the previous beat from another camera angle, silently.
* **Style sheet.** Subject (the first sentence's opening noun phrase), setting (its first place phrase: "across a
  snowy field"), palette (from mood words, like the offline image renderer's) and look (picked by hash). It is
  prefixed to every image prompt, which is what keeps the procedural stills of one movie in one palette.
* **Narration** is the beat's text cut to the scene's word budget (:func:`core.script.word_budget`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from core.script import MovieScript, ScriptScene, StyleSheet, fit_line, word_budget

PLANNER_VERSION = "local-planner-1"
"""Part of the script's cache key: bump whenever a change alters the script written for the same prompt."""

SHOTS = ("wide establishing shot", "medium shot", "close-up", "tracking shot", "low-angle shot", "detail shot",
         "over-the-shoulder shot", "aerial view")
LOOKS = ("cinematic, soft natural light, 35 mm film grain", "painterly, gentle volumetric light",
         "documentary realism, handheld camera", "dreamlike, pastel haze, shallow depth of field")
PALETTES: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset("night moon star stars space galaxy midnight dark planet".split()), "deep blues and silver"),
    (frozenset("sunset sunrise dawn dusk evening fire autumn warm golden".split()), "warm amber and rose gold"),
    (frozenset("snow winter ice frozen cold arctic glacier".split()), "cold whites and pale blues"),
    (frozenset("forest jungle garden meadow tree trees leaves spring".split()), "mossy greens and earthy browns"),
    (frozenset("sea ocean beach wave waves river lake harbour harbor island".split()), "teal, sand and foam white"),
    (frozenset("city cities street streets neon rain traffic robot robots towers".split()), "neon magenta and grey"),
    (frozenset("desert dune dunes sand canyon".split()), "ochre and burnt orange"),
)
DEFAULT_PALETTES = ("muted earth tones", "soft pastels", "rich jewel tones", "warm neutrals with one bright accent")
_SENTENCES = re.compile(r"(?<=[.!?…])['\"’”)\]]*\s+")
_CLAUSES = re.compile(r"(?<=[,;:])\s+|\s+(?=\b(?:and then|then|while|as|but|until|when)\b)", re.IGNORECASE)
_PLACE = frozenset("in on at across over under through beneath inside near along above below around beside "
                   "behind into onto".split())
_STOP = frozenset("and then while as but until when who which that with to from by for".split()) | _PLACE
_ARTICLES = frozenset("a an the".split())


def _pick(options: Sequence[str], prompt: str, salt: str) -> str:
    digest = hashlib.sha256(f"{salt}:{prompt}".encode()).digest()
    return options[digest[0] % len(options)]


def _bare(word: str) -> str:
    return word.strip(".,;:!?…'\"’”()[]").lower()


def _line(text: str) -> str:
    """A beat as a spoken line: no dangling clause mark, ending like a sentence."""
    text = text.strip().rstrip(",;:—–- ")
    text = text[:1].upper() + text[1:]
    return text if not text or re.search(r"[.!?…]['\"’”)\]]*$", text) else f"{text}."


def split_beats(prompt: str) -> list[str]:
    """The prompt's sentences, whitespace-normalised (a prompt without full stops is one beat)."""
    return [" ".join(s.split()) for s in _SENTENCES.split(prompt.strip()) if s.strip()]


def _refine(beats: list[str], scenes: int) -> list[str]:
    """Split the longest beat at a clause boundary until there are enough beats or nothing splits further."""
    beats = list(beats)
    while len(beats) < scenes:
        for index in sorted(range(len(beats)), key=lambda i: -len(beats[i].split())):
            parts = [p for p in _CLAUSES.split(beats[index]) if p.strip()]
            if len(parts) > 1 and all(len(p.split()) >= 3 for p in parts):
                beats[index : index + 1] = [p.strip() for p in parts]
                break
        else:
            return beats
    return beats


def style_sheet(prompt: str) -> StyleSheet:
    """Subject, setting, palette and look from the prompt's words (see the module docstring)."""
    first = (split_beats(prompt) or [prompt])[0].split()
    subject: list[str] = []
    for word in first:
        if _bare(word) in _STOP or len(subject) >= 6:
            break
        subject.append(word.strip(".,;:!?…"))
    setting: list[str] = []
    start = next((i for i, w in enumerate(first) if _bare(w) in _PLACE), None)
    for word in first[start + 1 :] if start is not None else []:
        if _bare(word) in _STOP - _ARTICLES or len(setting) >= 8:
            break
        setting.append(word.strip(".,;:!?…"))
        if word.rstrip("'\"’”)]").endswith((",", ".", ";", "!", "?")):
            break
    words = {_bare(w) for w in prompt.split()}
    hits = max(len(words & keys) for keys, _ in PALETTES)
    palette = next((name for keys, name in PALETTES if hits and len(words & keys) == hits),
                   _pick(DEFAULT_PALETTES, prompt, "palette"))
    return StyleSheet(
        subject=" ".join(subject) or " ".join(first[:4]).strip(".,;:!?…"),
        setting=" ".join(setting) or "an open landscape",
        palette=palette,
        look=_pick(LOOKS, prompt, "look"),
    )


class LocalScriptWriter:
    """Writes the script for a prompt and the scenes' planned on-screen seconds, deterministically."""

    name = "local"

    def write(self, prompt: str, durations: Sequence[float]) -> MovieScript:
        count = len(durations)
        beats = _refine(split_beats(prompt) or [prompt.strip()], count)
        scenes: list[ScriptScene] = []
        for index, seconds in enumerate(durations):
            if len(beats) >= count:  # contiguous groups of beats, in order
                group = [b for j, b in enumerate(beats) if j * count // len(beats) == index]
                narration = fit_line(" ".join(_line(b) for b in group), word_budget(seconds))
            else:  # more scenes than beats: scene i shows beat i*len/count; only its first scene narrates it
                beat_index = index * len(beats) // count
                group = [beats[beat_index]]
                first_of_beat = index == 0 or (index - 1) * len(beats) // count != beat_index
                narration = fit_line(_line(group[0]), word_budget(seconds)) if first_of_beat else ""
            shot = "closing wide shot" if index == count - 1 and count > 2 else SHOTS[index % len(SHOTS)]
            visual = f"{shot}: {' '.join(_line(b) for b in group)}"
            scenes.append(ScriptScene(visual=visual, narration=narration, duration=seconds))
        return MovieScript(style=style_sheet(prompt), scenes=scenes, written_by=self.name)
