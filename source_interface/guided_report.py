"""The guided report: optional questions and free text, made into one message for staff.

Everything a source answers is encrypted together, with the questions written above the
answers, so that staff read one structured report on the offline workstation. The questions
are written in English there whatever the page's language: staff tooling and colleagues read
them in English, and the page's language tells staff which language to reply in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

FREE_TEXT = "msg"
# The page's one free-text box. Before issue 12 it had three ("what", "anything_else" and
# "msg"); a page left open in a tab may still post them, so all three are still read.
STORY = "what"
OLD_BOXES = ("anything_else", FREE_TEXT)
# (form field, the question as staff read it). The pages ask them in the source's language.
QUESTIONS = (
    ("what", "What is happening?"),
    ("where", "Where?"),
    ("when", "When?"),
    ("danger", "Is anyone in danger right now?"),
    ("who", "Is this about you or someone else?"),
    # Asked only when someone reports about another child: what lets staff find that child.
    ("child_name", "Name of the child at risk:"),
    ("child_age", "Their age:"),
    ("child_school", "Their school:"),
    ("anything_else", "Anything else?"),
)
# Questions answered by choosing: the values the form sends, and what staff read.
CHOICES = {
    "danger": {"yes": "Yes", "no": "No", "unsure": "Not sure"},
    "who": {"me": "Me", "other": "Someone else", "both": "Both me and someone else"},
}
FREE_TEXT_HEADING = "In their own words"


@dataclass(frozen=True)
class GuidedReport:
    """What a source wrote and chose on the form, keyed by field name; blanks left out."""

    answers: Mapping[str, str]

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> GuidedReport:
        """Read the form; an unknown choice counts as no answer."""
        answers = {}
        for field in [name for name, _ in QUESTIONS] + [FREE_TEXT]:
            value = form.get(field, "")
            if field in CHOICES and value not in CHOICES[field]:
                continue
            if value.strip():
                answers[field] = value
        return cls(answers)

    def form_answers(self) -> dict[str, str]:
        """The answers to put back into today's form: the old boxes' words go into the one box."""
        kept = {k: v for k, v in self.answers.items() if k not in (STORY, *OLD_BOXES)}
        story = [self.answers[k] for k in (STORY, *OLD_BOXES) if k in self.answers]
        return {STORY: "\n\n".join(story), **kept} if story else kept

    def is_empty(self) -> bool:
        """True when nothing was written or chosen but who it is about.

        The page chooses "who" itself once the source picks "About me" or "About someone
        else" (issue 12): that alone tells staff nothing, so it is not a report.
        """
        return not set(self.answers) - {"who"}

    def content(self) -> str:
        """The source's own words alone, for the instance's rules on a first message.

        Choices are left out: "who" is chosen by the page's links, and neither says anything
        in the source's words that a minimum length or the codename check should weigh.
        """
        return "\n".join(v for k, v in self.answers.items() if k not in CHOICES)

    def message(self, language_name: str | None = None) -> str:
        """The one message to encrypt; free text alone, in English, is sent as it was written."""
        if not self.answers:
            return ""
        if set(self.answers) == {FREE_TEXT} and language_name is None:
            return self.answers.get(FREE_TEXT, "")
        parts = ["Guided report. Every question was optional."]
        if language_name is not None:
            parts[0] += f" The page was in {language_name}."
        for field, question in QUESTIONS:
            if field in self.answers:
                answer = self.answers[field]
                parts.append(f"{question}\n{CHOICES.get(field, {}).get(answer, answer)}")
        if FREE_TEXT in self.answers:
            parts.append(f"{FREE_TEXT_HEADING}:\n{self.answers[FREE_TEXT]}")
        return "\n\n".join(parts)
