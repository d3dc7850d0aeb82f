"""Read the TOML file, validate it, run the cross-field checks; render the effective config."""

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import ValidationError

from config.claims import Claim
from config.errors import ConfigError, Problem, _did_you_mean, _show
from config.model import Config
from config.problems import _problem
from config.topics import Topic

# --- cross-field checks -------------------------------------------------------------------------


def _topic_problems(key: str, topic: Topic) -> list[Problem]:
    languages = ", ".join(dict.fromkeys(topic.languages))
    repeated = sorted({lang for lang in topic.languages if topic.languages.count(lang) > 1})
    problems = [
        Problem(f"{key}.languages", f"expected each language once; found {_show(lang)} twice")
        for lang in repeated
    ]
    problems += [
        Problem(
            f"{key}.terms",
            f"expected a table for each language ({languages}); found none for {_show(lang)}",
        )
        for lang in dict.fromkeys(topic.languages)
        if lang not in topic.terms
    ]
    for table in ("terms", "queries", "context", "elsewhere"):
        problems += [
            Problem(
                f"{key}.{table}.{lang}",
                f"expected a language of the topic ({languages}); found {_show(lang)}",
            )
            for lang in getattr(topic, table)
            if lang not in topic.languages
        ]
    return problems


def _claim_problems(key: str, claim: Claim, topics: Mapping[str, Topic]) -> list[Problem]:
    topic = topics.get(claim.topic)
    if topic is None:
        expected = (
            f"a topic defined in [topics] ({', '.join(topics)}){_did_you_mean(claim.topic, topics)}"
        )
        return [Problem(f"{key}.topic", f"expected {expected}; found {_show(claim.topic)}")]
    languages = ", ".join(dict.fromkeys(topic.languages))
    return [
        Problem(
            f"{key}.{table}.{lang}",
            f"expected a language of topic {_show(claim.topic)} ({languages}); found {_show(lang)}",
        )
        for table, terms in claim.term_tables().items()
        for lang in terms
        if lang not in topic.languages
    ]


def _cross_field_problems(config: Config) -> list[Problem]:
    problems: list[Problem] = []
    for topic_id, topic in config.topics.items():
        problems += _topic_problems(f"topics.{topic_id}", topic)
    for claim_id, claim in config.claims.items():
        problems += _claim_problems(f"claims.{claim_id}", claim, config.topics)
    return problems


# --- loading and rendering ----------------------------------------------------------------------


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        message = "config file not found; choose another with --config PATH or CLAIMWATCH_CONFIG"
        raise ConfigError(path, [Problem("", message)]) from None
    except OSError as error:
        raise ConfigError(path, [Problem("", f"cannot read: {error.strerror}")]) from None
    except UnicodeDecodeError as error:
        raise ConfigError(path, [Problem("", f"expected UTF-8 text; {error.reason}")]) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(path, [_syntax_problem(str(error), text)]) from None


def _syntax_problem(message: str, text: str) -> Problem:
    what, _, where = message.partition(" (at ")
    position = re.fullmatch(r"line (\d+), column (\d+)\)", where)
    if position is None:  # "(at end of document)"
        lines = text.split("\n")
        line, column = len(lines), len(lines[-1]) + 1
    else:
        line, column = int(position[1]), int(position[2])
    return Problem(f"line {line}, column {column}", f"invalid TOML: {what}")


def load_config(path: Path, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate the config file; `env` resolves credentials (default: os.environ)."""
    data = _read_toml(path)
    try:
        config = Config.model_validate(data)
    except ValidationError as error:
        raise ConfigError(path, [_problem(e) for e in error.errors()]) from None
    problems = _cross_field_problems(config)
    if problems:
        raise ConfigError(path, problems)
    config._path = path
    config._env = os.environ if env is None else env
    return config


def render_effective(config: Config) -> str:
    """The effective config as TOML, defaults filled in; credentials show only their env names."""
    data = config.model_dump(mode="json", exclude_none=True)
    for source_id, source in config.sources.by_id().items():
        masked = source.credentials.masked(config.env)
        if masked:
            data["sources"][source_id]["credentials"] = masked
        else:
            del data["sources"][source_id]["credentials"]
    if config.digest.smtp is not None:
        data["digest"]["smtp"]["credentials"] = config.digest.smtp.credentials.masked(config.env)
    if config.digest.webhook is not None:
        data["digest"]["webhook"] = config.digest.webhook.masked(config.env)
    header = f"# Effective configuration from {config.path}: defaults filled in, secrets masked.\n"
    return header + tomli_w.dumps(data)
