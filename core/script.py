"""The movie script: what a script writer (OpenAI or the offline planner) hands to the movie flow.

A script is a style sheet plus one entry per planned clip. The style sheet is written once and prefixed to every
image prompt, because image models draw each scene independently: without a shared subject, setting, palette and
look, consecutive scenes of one movie come out as strangers. Scene durations are not the writer's to choose: they
are the snapped clip lengths of the video model (``media.clip_plan``), handed to the writer, so the narration can
be written to fit them. "Fit" is a word budget at ~2.5 words per second (a calm narrator's pace) with a margin for
the breath after the line, so a line planned here is never cut when the scene ends.
"""

from __future__ import annotations

import math
import re

from pydantic import BaseModel, ConfigDict, Field

#: A calm narration pace; TTS voices speak 2.5-3.5 words/s, so lines planned at this rate leave room to spare.
WORDS_PER_SECOND = 2.5
#: Seconds of each scene kept free of planned words: the tail after the line and a little air before the cut.
NARRATION_MARGIN_S = 1.0
#: A line shorter than this many words is not worth saying; such a scene stays silent.
MIN_LINE_WORDS = 3
_SENTENCE_END = re.compile(r"[.!?…]['\"’”)\]]*$")
_CLAUSE_END = re.compile(r"[,;:—–-]['\"’”)\]]*$")


class StyleSheet(BaseModel):
    """The look every scene shares; :meth:`prefix` is what precedes each image prompt."""

    model_config = ConfigDict(frozen=True)

    subject: str = Field(description="Who or what the movie is about, described the same way in every scene.")
    setting: str = Field(description="Where and when it takes place.")
    palette: str = Field(description="The dominant colours.")
    look: str = Field(description="Medium, lighting and camera feel (e.g. 'cinematic, soft morning light').")

    def prefix(self) -> str:
        """The style line prefixed to every image prompt, so every still is drawn from the same sheet."""
        return f"{self.look}; palette: {self.palette}; subject: {self.subject}; setting: {self.setting}. "


class ScriptScene(BaseModel):
    """One scene: what the camera shows, what the narrator says (may be empty), and its on-screen seconds."""

    model_config = ConfigDict(frozen=True)

    visual: str
    narration: str = ""
    duration: float


class MovieScript(BaseModel):
    """A whole movie: the style sheet, the scenes in order, and who wrote it (``local`` or a chat model id)."""

    model_config = ConfigDict(frozen=True)

    style: StyleSheet
    scenes: list[ScriptScene]
    written_by: str = "local"


def word_budget(seconds: float) -> int:
    """How many words a scene of ``seconds`` can carry at :data:`WORDS_PER_SECOND`, keeping the margin free."""
    budget = math.floor(WORDS_PER_SECOND * max(0.0, seconds - NARRATION_MARGIN_S))
    return budget if budget >= MIN_LINE_WORDS else 0


def fit_line(text: str, max_words: int) -> str:
    """``text`` cut to at most ``max_words`` words, at the last sentence end that fits, else the last clause end,
    else the word limit; a cut line ends with a full stop. Whitespace is normalised; nothing fits in 0 words."""
    words = text.split()
    if len(words) <= max_words:
        return " ".join(words)
    if max_words < MIN_LINE_WORDS:
        return ""
    head = words[:max_words]
    for pattern in (_SENTENCE_END, _CLAUSE_END):
        ends = [i for i, word in enumerate(head) if pattern.search(word) and i + 1 >= MIN_LINE_WORDS]
        if ends:
            head = head[: ends[-1] + 1]
            break
    line = " ".join(head).rstrip(",;:—–- ")
    return line if _SENTENCE_END.search(line) else f"{line}."
