"""Beam arguments are checked against Beam's own option parser before any stage runs."""

from __future__ import annotations

import pytest

from longweave.jobs.runner import BeamArgsError, check_beam_args, unknown_beam_args
from longweave.schemas.recipe import RecipeError, RunnerConfig


def test_known_options_of_every_runner_pass() -> None:
    check_beam_args(RunnerConfig(), [
        "--direct_num_workers=2", "--project=p", "--region", "europe-west1",
        "--temp_location=gs://b/tmp", "--flink_master=host:8081", "--experiments=a",
        "--experiments=b", "--save_main_session", "--no_use_public_ips"])


def test_unknown_options_are_found_with_a_suggestion() -> None:
    unknown, names = unknown_beam_args(["--dirct_num_workers=3", "--runner=DirectRunner"])
    assert unknown == ["--dirct_num_workers=3"]
    assert "direct_num_workers" in names
    with pytest.raises(BeamArgsError, match=r"--dirct_num_workers \(did you mean "
                       r"--direct_num_workers\?\)"):
        check_beam_args(RunnerConfig(), ["--dirct_num_workers=3"])


def test_an_unknown_option_with_its_value_is_one_problem_and_a_stray_word_another() -> None:
    with pytest.raises(BeamArgsError) as info:
        check_beam_args(RunnerConfig(), ["--colour", "blue", "--runner=DirectRunner", "stray"])
    assert str(info.value).endswith(": --colour, 'stray' (not an option; Beam options are "
                                    "--name=value)")


def test_a_value_beam_cannot_parse_is_an_error_not_an_exit() -> None:
    with pytest.raises(BeamArgsError, match="argument --direct_num_workers: invalid int"):
        check_beam_args(RunnerConfig(), ["--direct_num_workers=two"])


def test_a_recipe_runner_option_names_its_key() -> None:
    with pytest.raises(RecipeError, match=r"^runner\.options\.sdk_locaton: unknown Beam "
                       r"option \(did you mean --sdk_location\?\)"):
        check_beam_args(RunnerConfig(options={"sdk_locaton": "container"}))
