"""Hostile secrets the redaction tests write into inputs and then grep every file for."""

AWS = "AKIAIOSFODNN7EXAMPLE"
GITHUB = "ghp_0123456789abcdefghijABCDEFGHIJ012345"
KEY_BODY = "b3BlbnNzaC1rZXktdjEAAAAAQUJDREVGR0hJSktMTU5PUFFSU1RVVldY"
PRIVATE_KEY = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{KEY_BODY}\n-----END OPENSSH PRIVATE KEY-----"
EMAIL = "alice.hostile@example.org"
SECRETS = (AWS, GITHUB, KEY_BODY, EMAIL)
