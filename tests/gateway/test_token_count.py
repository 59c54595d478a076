"""The texts the tokenizer counts when an upstream reports no usage: what a request sends
(messages, text parts, prompt, input) and what an answer or a stream generated so far."""

from __future__ import annotations

from computeport.gateway.token_count import (
    answer_text,
    prompt_text,
    streamed_text,
    tokenize_url,
)


def test_prompt_text_takes_every_text_the_model_reads() -> None:
    body = {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "Hi"}, {"type": "image_url"}]},
        ]
    }
    assert prompt_text(body) == "Be brief.\nHi"
    assert prompt_text({"prompt": ["a", "b", 3]}) == "a\nb"
    assert prompt_text({"input": "embed me"}) == "embed me"
    assert prompt_text({"messages": "not a list"}) == ""


def test_answer_and_stream_text() -> None:
    assert answer_text({"choices": [{"message": {"content": "Yes."}}]}) == "Yes."
    assert answer_text({"choices": [{"text": "ok"}]}) == "ok"
    assert answer_text(None) == ""
    events = [
        b'data: {"choices":[{"delta":{"content":"Hel"}}]}\n\n',
        b'data: {"choices":[{"delta":{"content":"lo"}}]}\n\n',
        b"data: not json\n\n",
        b"data: [DONE]\n\n",
    ]
    assert streamed_text(events) == "Hello"


def test_the_tokenizer_lives_at_the_servers_root() -> None:
    assert tokenize_url("http://10.0.0.5:8000/v1") == "http://10.0.0.5:8000/tokenize"
    assert tokenize_url("http://h:1/v1/") == "http://h:1/tokenize"
