"""Rendering shared by the sample kinds: chat messages with loss spans, and meta helpers."""

from __future__ import annotations

from dataclasses import dataclass, field

from longweave.schemas.document import Span
from longweave.schemas.meta import DEPENDENCY_LINKS, SampleLength
from longweave.schemas.spans import LOSS_OFF, turn_label
from longweave.synth.textutil import LengthMeter, TokenPositions

CHAT_TEMPLATE = "chatml"


@dataclass
class ChatSample:
    """A user turn and an assistant turn, rendered once with exact offsets."""

    text: str
    spans: list[Span]
    messages: list[dict[str, int | str]]
    user_body_start: int  # offset of the user content inside `text`
    answer_start: int
    answer_end: int


def render_chat(user: str, assistant: str) -> ChatSample:
    """ChatML text; `loss:off` covers everything except the assistant's answer and its end tag.

    Offsets of anything inside `user` shift by `user_body_start` in the rendered text.
    """
    head = "<|im_start|>user\n"
    middle = "<|im_end|>\n<|im_start|>assistant\n"
    tail = "<|im_end|>\n"
    user_start = len(head)
    user_end = user_start + len(user)
    answer_start = user_end + len(middle)
    answer_end = answer_start + len(assistant)
    text = head + user + middle + assistant + tail
    loss_end = answer_end + len("<|im_end|>")
    spans = [
        Span(0, answer_start, LOSS_OFF),
        Span(loss_end, len(text), LOSS_OFF),
        Span(user_start, user_end, turn_label("user")),
        Span(answer_start, answer_end, turn_label("assistant")),
    ]
    messages = [{"role": "user", "start": user_start, "end": user_end},
                {"role": "assistant", "start": answer_start, "end": answer_end}]
    return ChatSample(text, spans, messages, user_start, answer_start, answer_end)


@dataclass
class DistanceMeter:
    """Question → evidence distances in characters and, with a tokenizer, in tokens."""

    meter: LengthMeter
    text: str
    _positions: TokenPositions | None = field(default=None, init=False)

    def link(self, evidence_start: int, evidence_end: int, question_start: int) -> dict:
        if self._positions is None:
            self._positions = self.meter.position_index(self.text)
        pos = self._positions
        out = {"evidence_start": evidence_start, "evidence_end": evidence_end,
               "question_start": question_start,
               "distance_chars": question_start - evidence_end}
        if pos.starts is not None:
            out["distance_tokens"] = pos.token_at(question_start) - pos.token_at(evidence_end)
        return out


def length_meta(meter: LengthMeter, text: str, bucket: int) -> SampleLength:
    """Measured length; says plainly when it is an estimate rather than a tokenizer count."""
    return {"tokens": meter.count(text), "bucket": bucket, "measured_by": meter.method}


def links_meta(links: list[dict]) -> dict[str, list[list[int]]]:
    """`dependency_links`: each question's `[evidence end, question start]`, which the
    tokenize stage measures in tokens like every other kind's links."""
    return {DEPENDENCY_LINKS: [[link["evidence_end"], link["question_start"]] for link in links]}
