"""Secret redaction: each provider's key shape, auth headers, private keys, URL passwords."""

from __future__ import annotations

import pytest

from longweave.filters.secrets import redact_secrets, redact_value

CASES = [
    ("export OPENAI_KEY_X=1 key sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz012345", "openai_key"),
    ("anthropic: sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv_wxyz-0123", "anthropic_key"),
    ("token ghp_0123456789abcdefghijABCDEFGHIJ012345 used", "github_token"),
    ("id AKIAIOSFODNN7EXAMPLE here", "aws_access_key"),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_key"),
    ("maps AIzaSyA1234567890abcdefghijklmnopqrstuv ok", "google_api_key"),
    ("slack xoxb-123456789012-abcdefghijkl", "slack_token"),
    ("hf_abcdefghijklmnopqrstuvwxyzABCDEF0123 is mine", "huggingface_token"),
    ("curl -H 'Authorization: Bearer abcdef0123456789abcdef0123'", "bearer_token"),
    ("git clone https://alice:hunter2secret@github.com/org/repo.git", "url_password"),
    ('config = {"password": "correct-horse-battery"}', "assigned_secret"),
    ("DATABASE_PASSWORD=s3cr3tvalue99 ./run.sh", "env_secret"),
]


@pytest.mark.parametrize(("text", "kind"), CASES)
def test_each_kind_is_found_and_replaced(text: str, kind: str) -> None:
    clean, counts = redact_secrets(text)
    assert counts.get(kind) == 1, counts
    assert f"[REDACTED:{kind}]" in clean


def test_private_key_block_is_removed_whole() -> None:
    block = ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nQUJD\n"
             "-----END OPENSSH PRIVATE KEY-----")
    clean, counts = redact_secrets(f"cat ~/.ssh/id\n{block}\ndone")
    assert counts == {"private_key": 1}
    assert "b3BlbnNz" not in clean and clean.endswith("[REDACTED:private_key]\ndone")


def test_url_password_keeps_user_and_host() -> None:
    clean, _ = redact_secrets("postgres://app:pa55word@db.internal:5432/x")
    assert clean == "postgres://app:[REDACTED:url_password]@db.internal:5432/x"


def test_ordinary_code_is_left_alone() -> None:
    text = ("token = self.next_token()\npassword = input('pw: ')\n"
            "sha = 'a3f9c2e1b4d5'\nsk-learn is a library; see https://example.com/a@b")
    clean, counts = redact_secrets(text)
    assert counts == {} and clean == text


def test_redaction_is_idempotent() -> None:
    once, _ = redact_secrets("Authorization: Bearer abcdef0123456789abcdef0123")
    twice, counts = redact_secrets(once)
    assert twice == once and counts == {}


def test_redact_value_walks_nested_json() -> None:
    value = {"cmd": ["curl", "-u", "https://bob:topsecret1@h.io"],
             "env": {"KEY": "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv"}, "n": 3}
    clean, counts = redact_value(value)
    assert counts == {"anthropic_key": 1, "url_password": 1}
    assert clean["n"] == 3 and "topsecret1" not in clean["cmd"][2]


def test_probes_never_skip_a_rule_that_matches() -> None:
    """Probes only skip scans: wherever a rule's full pattern matches (in any letter case,
    or with the non-ASCII letters `(?i)` folds to ASCII), `may_match` must say yes."""
    from longweave.filters.secrets import _RULES, TextViews

    texts = [text for text, _ in CASES] + [
        "-----BEGIN RSA PRIVATE KEY-----\nQUJD\n-----END RSA PRIVATE KEY-----",
        "auth eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.SflKxwRJSMeKKF2QT4 ok",
        "Authorization: basic dXNlcjpwYXNzd29yZA== and sk_live_abcdefghijklmnop1234",
        "AWS_\u017fECRET_ACCESS_KEY='wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' secret",
        "pa\u017f\u017fword: 'hunter2hunter2' then github_pat_abcdefghijklmnopqrstuv12",
    ]
    checked = 0
    for text in texts:
        for variant in (text, text.upper(), text.lower()):
            views = TextViews(variant)
            for rule in _RULES:
                triggered = any(t in (views.lowered if t.islower() else variant)
                                for t in rule.triggers)
                if triggered and rule.pattern.search(variant):
                    assert rule.may_match(views), (rule.kind, variant)
                    checked += 1
    assert checked >= len(CASES) + 5


def test_text_without_secrets_is_returned_unchanged() -> None:
    from longweave.filters.secrets import may_hold_secret

    text = "The key to the door; a token of esteem; secret passages: see https://example.com/x"
    assert not may_hold_secret(text)
    assert redact_secrets(text) == (text, {})
