"""Fault injection: make chosen requests slow, fail, or vanish after committing.

Rules let tests exercise the client's retries, ``Retry-After`` handling and idempotency
(``drop_after_commit`` writes, then closes the socket, so a client that blindly retries a
POST creates a duplicate). Selection is deterministic: ``after``/``every``/``count`` count
matching requests, and ``rate`` draws from a per-rule RNG seeded with ``seed``.
"""

import random
import re
import threading
from dataclasses import dataclass

RULE_KEYS = {"method", "path", "api", "status", "retry_after", "latency_ms", "drop_after_commit", "rate", "seed",
             "count", "every", "after"}


class FaultRuleError(ValueError):
    """A rule that cannot be used; the message names the problem."""


@dataclass
class Effect:
    """What the firing rules ask for one request."""

    latency_ms: float = 0.0
    status: int | None = None
    retry_after: object = None
    drop_after_commit: bool = False


@dataclass
class FaultRule:
    spec: dict
    pattern: re.Pattern | None
    rng: random.Random
    matches: int = 0
    hits: int = 0

    def matches_request(self, api, method, path):
        spec = self.spec
        return (spec.get("method") is None or spec["method"].upper() == method) and \
            (spec.get("api") is None or spec["api"] == api) and \
            (self.pattern is None or self.pattern.search(path) is not None)

    def fires(self):
        """Count one matching request and say whether the rule fires for it."""
        self.matches += 1
        spec = self.spec
        position = self.matches - spec.get("after", 0)
        if position <= 0:
            return False
        if spec.get("every") and position % spec["every"]:
            return False
        if spec.get("rate", 1) < 1 and self.rng.random() >= spec["rate"]:
            return False
        if spec.get("count") is not None and self.hits >= spec["count"]:
            return False
        self.hits += 1
        return True

    def describe(self):
        return dict(self.spec, matches=self.matches, hits=self.hits)


def _validate(spec):
    if not isinstance(spec, dict):
        raise FaultRuleError("a rule must be an object")
    unknown = set(spec) - RULE_KEYS
    if unknown:
        raise FaultRuleError(f"unknown rule keys {sorted(unknown)}; known: {sorted(RULE_KEYS)}")
    for key in ("count", "every", "after"):
        if key in spec and (not isinstance(spec[key], int) or isinstance(spec[key], bool) or spec[key] < 0):
            raise FaultRuleError(f"{key} must be a non-negative integer")
    if "rate" in spec and not (isinstance(spec["rate"], (int, float)) and 0 <= spec["rate"] <= 1):
        raise FaultRuleError("rate must be a number from 0 to 1")
    if "status" in spec and not (isinstance(spec["status"], int) and 100 <= spec["status"] <= 599):
        raise FaultRuleError("status must be an HTTP status code")
    if spec.get("api") not in (None, "connectwise", "mbs"):
        raise FaultRuleError("api must be 'connectwise' or 'mbs'")
    try:
        return re.compile(spec["path"]) if spec.get("path") else None
    except re.error as exc:
        raise FaultRuleError(f"path is not a valid regular expression: {exc}") from exc


class Faults:
    """The active fault rules, with a lock of their own (they are checked before the store's)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []

    def add(self, specs):
        """Validate all rules first, then append them (all or nothing)."""
        if not isinstance(specs, list):
            raise FaultRuleError("rules must be a list")
        built = [FaultRule(dict(spec), _validate(spec), random.Random(spec.get("seed", 1))) for spec in specs]
        with self.lock:
            self.rules.extend(built)
        return len(built)

    def clear(self):
        with self.lock:
            self.rules = []

    def describe(self):
        with self.lock:
            return [rule.describe() for rule in self.rules]

    def effect_for(self, api, method, path):
        """Combine every firing rule: latencies add up, the first status and drop win."""
        effect = Effect()
        with self.lock:
            for rule in self.rules:
                if not rule.matches_request(api, method, path) or not rule.fires():
                    continue
                effect.latency_ms += rule.spec.get("latency_ms", 0)
                if effect.status is None and rule.spec.get("status"):
                    effect.status = rule.spec["status"]
                    effect.retry_after = rule.spec.get("retry_after")
                effect.drop_after_commit = effect.drop_after_commit or bool(rule.spec.get("drop_after_commit"))
        return effect
