"""The configuration: the shipped file, every error message, credentials and their masking, docs."""

import datetime as dt
import tomllib
import types
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import pytest
from pydantic import BaseModel

from claimwatch.cli import served_on_port
from config import Config, ConfigError, load_config, render_effective

ROOT = Path(__file__).parents[1]
SHIPPED = ROOT / "config" / "claimwatch.toml"

TOPIC = """
[topics.ice-canada]
title = "ICE in Canada"
languages = ["en", "fr"]
terms.en.phrases = ["ICE Canada"]
terms.fr.phrases = ["ICE au Canada"]
"""
CLAIM = """
[claims.ice-offices-canada]
topic = "ice-canada"
title = "ICE offices"
subject = {en = ["ICE"]}
object = {en = ["offices"]}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "claimwatch.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    return str(caught.value).replace(f"{path}: ", "FILE: ")


# --- the shipped file ---------------------------------------------------------------------------


def test_the_shipped_config_has_the_story_topic_both_claims_and_all_sources() -> None:
    config = load_config(SHIPPED, env={})
    assert list(config.topics) == ["ice-canada"]
    assert list(config.claims) == ["ice-offices-canada", "ice-armed-operations-canada"]
    assert sorted(config.sources.by_id()) == [
        "bluesky", "factcheck", "gdelt", "hackernews", "mastodon", "news", "reddit", "x", "youtube",
    ]  # fmt: skip
    assert config.path == SHIPPED


def test_the_shipped_offices_claim_knows_the_five_verified_places() -> None:
    quantity = load_config(SHIPPED, env={}).claims["ice-offices-canada"].quantity
    assert quantity is not None
    assert quantity.verified == len(quantity.places) == 5
    assert ["Montreal", "Montréal", "MTL", "Mtl", "YUL"] in quantity.places


def test_the_shipped_story_phrases_are_all_there() -> None:
    terms = load_config(SHIPPED, env={}).topics["ice-canada"].terms
    for phrase in ("ICE stations Canada", "ICE offices Canada", "ICE Canada", "HSI Canada"):
        assert phrase in terms["en"].phrases
    assert "Homeland Security Investigations Canada" in terms["en"].phrases
    assert {"ICE au Canada", "bureaux de l'ICE"} <= set(terms["fr"].phrases)


def test_the_shipped_authorities_are_the_official_accounts_only() -> None:
    corrections = load_config(SHIPPED, env={}).claims["ice-armed-operations-canada"].corrections
    handles = [(a.source, a.handle) for a in corrections.authorities]
    assert handles == [("x", "usembassyottawa"), ("x", "DHSgov"), ("x", "ICEgov")]


# --- values and defaults ------------------------------------------------------------------------


def test_durations_are_timedeltas_from_strings_or_seconds(tmp_path: Path) -> None:
    text = TOPIC + '[sources.gdelt]\ninterval = "1h30m"\ntimeout = 90\n'
    gdelt = load_config(write(tmp_path, text), env={}).sources.gdelt
    assert gdelt.interval == dt.timedelta(hours=1, minutes=30)
    assert gdelt.timeout == dt.timedelta(seconds=90)
    assert gdelt.min_request_interval == dt.timedelta(seconds=5)


def test_a_minimal_file_gets_every_default(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, TOPIC), env={})
    assert config.sources.reddit.base_url == "https://www.reddit.com"
    assert (config.sources.x.enabled, config.sources.hackernews.enabled) == (False, True)
    assert config.warehouse.lock_timeout == dt.timedelta(seconds=10)
    assert (config.dashboard.port, config.dashboard.address) == (8501, "127.0.0.1")
    assert config.digest.time == dt.time(7, 0)


def test_links_are_built_on_the_dashboards_public_url(tmp_path: Path) -> None:
    default = load_config(write(tmp_path, TOPIC), env={}).dashboard
    assert default.link_base == "http://127.0.0.1:8501"
    served = served_on_port(load_config(write(tmp_path, TOPIC), env={}), 8600).dashboard
    assert served.link_base == "http://127.0.0.1:8600"  # `claimwatch run --port 8600`
    behind = '[dashboard]\npublic_url = "https://example.org/claimwatch/"\n'
    assert load_config(write(tmp_path, TOPIC + behind), env={}).dashboard.link_base == (
        "https://example.org/claimwatch"
    )
    older = '[dashboard]\nbase_url = "https://claims.example.org"\n'
    assert load_config(write(tmp_path, TOPIC + older), env={}).dashboard.link_base == (
        "https://claims.example.org"
    )


@pytest.mark.parametrize("url", ["https://example.org/?page=1", "ftp://example.org", "example"])
def test_a_public_url_that_cannot_carry_links_is_refused(tmp_path: Path, url: str) -> None:
    message = error_of(tmp_path, TOPIC + f'[dashboard]\npublic_url = "{url}"\n')
    assert message.startswith("FILE: dashboard.public_url: expected ")


def test_the_digest_time_zone_defaults_to_the_schedules(tmp_path: Path) -> None:
    text = TOPIC + '[schedule]\ntimezone = "America/Vancouver"\n'
    config = load_config(write(tmp_path, text), env={})
    assert config.digest.timezone == "America/Vancouver"
    assert config.digest.zone == config.schedule.zone


def test_queries_default_to_the_phrases_of_each_language(tmp_path: Path) -> None:
    text = TOPIC + 'queries.fr = ["bureaux de l\'ICE"]\n'
    topic = load_config(write(tmp_path, text), env={}).topics["ice-canada"]
    assert topic.queries == {"en": ["ICE Canada"], "fr": ["bureaux de l'ICE"]}


# --- error messages -----------------------------------------------------------------------------


def test_an_unknown_key_lists_the_allowed_keys_and_the_closest(tmp_path: Path) -> None:
    message = error_of(tmp_path, TOPIC + '[sources.gdelt]\nintervall = "1h"\n')
    assert message == (
        "FILE: sources.gdelt.intervall: unknown key; expected one of base_url, credentials, "
        "enabled, interval, max_pages, min_request_interval, timeout, user_agent "
        "(did you mean 'interval'?)"
    )


def test_a_key_in_the_wrong_table_points_to_where_it_goes(tmp_path: Path) -> None:
    message = error_of(tmp_path, TOPIC + 'phrasez = ["ICE"]\n')
    assert message == (
        "FILE: topics.ice-canada.phrasez: unknown key; expected one of context, corrections, "
        "elsewhere, languages, queries, terms, title (did you mean 'terms'? 'phrases' goes in "
        "terms.<language>.phrases)"
    )


def test_an_unknown_source_is_an_unknown_key(tmp_path: Path) -> None:
    message = error_of(tmp_path, TOPIC + "[sources.twitter]\nenabled = true\n")
    assert message == (
        "FILE: sources.twitter: unknown key; expected one of bluesky, factcheck, gdelt, "
        "hackernews, mastodon, news, reddit, x, youtube"
    )


def test_a_wrong_type_says_what_was_expected_and_found(tmp_path: Path) -> None:
    message = error_of(tmp_path, TOPIC + '[dashboard]\nport = "8501"\n')
    assert message == 'FILE: dashboard.port: expected an integer; found "8501"'


def test_a_bad_duration_says_how_to_write_one(tmp_path: Path) -> None:
    message = error_of(tmp_path, TOPIC + '[sources.mastodon]\ninterval = "often"\n')
    assert message == (
        'FILE: sources.mastodon.interval: expected a duration such as "30s", "15m", "1h", '
        '"1h30m" or a whole number of seconds; found "often"'
    )


def test_a_zero_interval_is_rejected(tmp_path: Path) -> None:
    message = error_of(tmp_path, TOPIC + "[sources.news]\ninterval = 0\n")
    assert message == "FILE: sources.news.interval: expected a duration greater than zero; found 0"


def test_a_bad_time_zone_suggests_the_closest(tmp_path: Path) -> None:
    message = error_of(tmp_path, TOPIC + '[schedule]\ntimezone = "America/Toranto"\n')
    assert message == (
        'FILE: schedule.timezone: expected an IANA time zone name like "America/Toronto" '
        "(did you mean 'America/Toronto'?); found \"America/Toranto\""
    )


def test_a_bad_digest_time_is_rejected(tmp_path: Path) -> None:
    message = error_of(tmp_path, TOPIC + '[digest]\ntime = "7am"\n')
    assert (
        message
        == 'FILE: digest.time: expected a time of day as "HH:MM" (24-hour clock); found "7am"'
    )


def test_a_claim_must_point_at_an_existing_topic(tmp_path: Path) -> None:
    message = error_of(tmp_path, TOPIC + CLAIM.replace('topic = "ice-canada"', 'topic = "ice-usa"'))
    assert message == (
        "FILE: claims.ice-offices-canada.topic: expected a topic defined in [topics] "
        '(ice-canada); found "ice-usa"'
    )


def test_a_claim_language_must_be_one_of_its_topics(tmp_path: Path) -> None:
    message = error_of(tmp_path, TOPIC + CLAIM + 'context = {es = ["Canadá"]}\n')
    assert message == (
        'FILE: claims.ice-offices-canada.context.es: expected a language of topic "ice-canada" '
        '(en, fr); found "es"'
    )


def test_every_topic_language_needs_terms(tmp_path: Path) -> None:
    message = error_of(tmp_path, TOPIC.replace('terms.fr.phrases = ["ICE au Canada"]', ""))
    assert message == (
        "FILE: topics.ice-canada.terms: expected a table for each language (en, fr); "
        'found none for "fr"'
    )


def test_an_id_must_be_lowercase_with_dashes(tmp_path: Path) -> None:
    message = error_of(tmp_path, TOPIC.replace("ice-canada", "ICE_Canada"))
    assert message == (
        'FILE: topics.ICE_Canada: expected an id of lowercase letters, digits and "-" '
        '(like "ice-canada"); found "ICE_Canada"'
    )


def test_urls_must_be_http(tmp_path: Path) -> None:
    message = error_of(tmp_path, TOPIC + '[sources.news]\nfeeds = ["ftp://cbc.ca/rss"]\n')
    assert message == (
        'FILE: sources.news.feeds[0]: expected an http(s) URL like "https://example.org"; '
        'found "ftp://cbc.ca/rss"'
    )


def test_smtp_addresses_must_look_like_emails(tmp_path: Path) -> None:
    smtp = '[digest.smtp]\nhost = "smtp.example.org"\nfrom_addr = "me@example.org"\n'
    message = error_of(tmp_path, TOPIC + smtp + 'to_addrs = ["newsroom"]\n')
    assert message == 'FILE: digest.smtp.to_addrs[0]: expected an email address; found "newsroom"'


def test_every_problem_gets_its_own_line(tmp_path: Path) -> None:
    message = error_of(tmp_path, TOPIC + "[dashboard]\nport = 0\naddress = 1\n")
    assert message.splitlines() == [
        "FILE: dashboard.port: expected a number >= 1; found 0",
        "FILE: dashboard.address: expected a string; found 1",
    ]


def test_a_toml_syntax_error_names_the_line_and_column(tmp_path: Path) -> None:
    message = error_of(tmp_path, TOPIC + "[dashboard]\nport = \n")
    assert message == "FILE: line 8, column 8: invalid TOML: Invalid value"


def test_a_missing_file_says_how_to_choose_another(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == (
        f"{path}: config file not found; choose another with --config PATH or CLAIMWATCH_CONFIG"
    )


# --- credentials --------------------------------------------------------------------------------


def test_a_secret_pasted_as_a_credential_is_rejected_unseen(tmp_path: Path) -> None:
    message = error_of(tmp_path, TOPIC + '[sources.x.credentials]\nbearer_token = "AAAA-s3cr3t"\n')
    assert "s3cr3t" not in message
    assert message.startswith("FILE: sources.x.credentials.bearer_token: expected the NAME of")


def test_a_source_without_credentials_takes_none(tmp_path: Path) -> None:
    message = error_of(tmp_path, TOPIC + '[sources.gdelt.credentials]\ntoken = "GDELT_TOKEN"\n')
    assert message == "FILE: sources.gdelt.credentials.token: unknown key; this table takes no keys"


def test_missing_credentials_names_the_unset_variables(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, TOPIC), env={"BLUESKY_HANDLE": "me.bsky.social"})
    assert config.missing_credentials("bluesky") == ["BLUESKY_APP_PASSWORD"]
    assert config.missing_credentials("x") == ["X_BEARER_TOKEN"]
    assert config.missing_credentials("gdelt") == []


def test_optional_credentials_are_missing_only_when_half_set(tmp_path: Path) -> None:
    path = write(tmp_path, TOPIC)
    assert load_config(path, env={}).missing_credentials("reddit") == []
    half = load_config(path, env={"REDDIT_CLIENT_ID": "abc"})
    assert half.missing_credentials("reddit") == ["REDDIT_CLIENT_SECRET"]


def test_credentials_resolve_from_renamed_variables_as_secrets(tmp_path: Path) -> None:
    text = TOPIC + '[sources.x.credentials]\nbearer_token = "MY_X_TOKEN"\n'
    config = load_config(write(tmp_path, text), env={"MY_X_TOKEN": "tok-123"})
    secret = config.credentials("x")["bearer_token"]
    assert secret.get_secret_value() == "tok-123"
    assert "tok-123" not in repr(secret)
    assert config.missing_credentials("x") == []


def test_render_effective_masks_every_secret(tmp_path: Path) -> None:
    text = TOPIC + '[digest.webhook]\nurl_env = "HOOK_URL"\n'
    env = {"BLUESKY_APP_PASSWORD": "hunter2-very-secret", "HOOK_URL": "https://hook/t0ken"}
    rendered = render_effective(load_config(write(tmp_path, text), env=env))
    assert "hunter2" not in rendered
    assert "t0ken" not in rendered
    assert 'app_password = "BLUESKY_APP_PASSWORD (set, ****)"' in rendered
    assert 'handle = "BLUESKY_HANDLE (not set)"' in rendered
    assert 'url_env = "HOOK_URL (set, ****)"' in rendered


def test_render_effective_hides_a_webhook_url_written_in_the_file(tmp_path: Path) -> None:
    text = TOPIC + '[digest.webhook]\nurl = "https://hooks.example/T0KEN"\n'
    config = load_config(write(tmp_path, text), env={})
    assert "T0KEN" not in render_effective(config) + repr(config)
    webhook_url = config.webhook_url()
    assert webhook_url is not None
    assert webhook_url.get_secret_value() == "https://hooks.example/T0KEN"


def test_render_effective_is_toml_with_the_defaults_filled_in(tmp_path: Path) -> None:
    rendered = tomllib.loads(render_effective(load_config(write(tmp_path, TOPIC), env={})))
    assert rendered["warehouse"] == {
        "lock_timeout": "10s", "read_timeout": "30s", "max_text_bytes": 1048576
    }  # fmt: skip
    assert rendered["digest"]["timezone"] == "America/Toronto"
    assert rendered["sources"]["news"]["interval"] == "30m"
    assert "credentials" not in rendered["sources"]["gdelt"]


# --- documentation ------------------------------------------------------------------------------


def models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation holds: itself, or inside list, dict, Optional."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if get_origin(annotation) in (list, dict, Union, types.UnionType):
        return [model for arg in get_args(annotation) for model in models_in(arg)]
    return []


def all_keys(model: type[BaseModel]) -> set[tuple[str, str]]:
    keys = set()
    for name, field in model.model_fields.items():
        keys.add((model.__name__, name))
        for inner in models_in(field.annotation):
            keys |= all_keys(inner)
    return keys


def test_every_key_of_every_model_is_documented() -> None:
    docs = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    keys = all_keys(Config)
    documented = {key for _, key in keys if f"`{key}`" in docs or f"`[{key}" in docs}
    undocumented = sorted(f"{model}.{key}" for model, key in keys if key not in documented)
    assert len(keys) > 60
    assert undocumented == []
