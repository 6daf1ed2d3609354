"""`[[alerts]]` rules in config.toml: declared in the settings model, bad ones refused."""

from __future__ import annotations

import pytest

from simplymeet.config import ConfigError, load_settings

THRESHOLD = """
[[alerts]]
name = "no-shows above 20%"
metric = "no_show"
breakdown = "host"
period = "week"
above = 0.2
min_sample_size = 25
"""


def write(tmp_path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_alert_rules_are_read_from_config_toml(tmp_path):
    settings = load_settings(write(tmp_path, THRESHOLD))

    (rule,) = settings.alerts
    assert (rule.metric, rule.breakdown, rule.period) == ("no_show", "host", "week")
    assert rule.above == 0.2
    assert rule.min_sample_size == 25


def test_no_rules_means_an_empty_list(tmp_path):
    assert load_settings(write(tmp_path, "[sync]\ncheck_alerts = true\n")).alerts == []


def test_an_unknown_key_in_a_rule_is_an_error_naming_the_rule(tmp_path):
    with pytest.raises(ConfigError, match=r"\[\[alerts\]\] #1 abvoe"):
        load_settings(write(tmp_path, THRESHOLD.replace("above", "abvoe")))


def test_an_unknown_metric_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"\[\[alerts\]\] #1 metric"):
        load_settings(write(tmp_path, THRESHOLD.replace('"no_show"', '"no_shows"')))


def test_a_rule_needs_exactly_one_condition(tmp_path):
    text = THRESHOLD + 'significant_change = "up"\n'
    with pytest.raises(ConfigError, match="exactly one"):
        load_settings(write(tmp_path, text))


def test_a_rate_threshold_outside_zero_and_one_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"within \[0, 1\]"):
        load_settings(write(tmp_path, THRESHOLD.replace("0.2", "20")))


def test_significant_change_over_the_whole_history_is_refused(tmp_path):
    text = THRESHOLD.replace("above = 0.2", 'significant_change = "any"').replace('"week"', '"all"')
    with pytest.raises(ConfigError, match="week or month"):
        load_settings(write(tmp_path, text))


@pytest.mark.parametrize("below", ["0.5", "0.2"])
def test_above_and_below_that_leave_no_band_between_them_are_refused(tmp_path, below):
    # Both together fire outside [below, above]; overlapping, they fire on every value.
    with pytest.raises(ConfigError, match=r"below \(0\.[25]\) must be less than above \(0\.2\)"):
        load_settings(write(tmp_path, THRESHOLD + f"below = {below}\n"))


def test_above_and_below_around_a_band_are_kept(tmp_path):
    (rule,) = load_settings(write(tmp_path, THRESHOLD + "below = 0.05\n")).alerts

    assert (rule.below, rule.above) == (0.05, 0.2)


def test_two_rules_with_one_name_are_refused(tmp_path):
    other = THRESHOLD.replace('"no_show"', '"canceled"')
    with pytest.raises(ConfigError, match="two \\[\\[alerts\\]\\] are named 'no-shows above 20%'"):
        load_settings(write(tmp_path, THRESHOLD + other))


def test_check_alerts_after_sync_is_off_by_default(tmp_path):
    assert load_settings(write(tmp_path, "")).sync.check_alerts is False
