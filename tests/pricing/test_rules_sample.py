"""The rule functions alone reproduce expected_flags_sample.csv exactly."""

from tests.pricing.sample_util import as_rows, expected_rows, pure_flags


def test_pure_rules_reproduce_the_sample(samples_dir):
    flags, listings = pure_flags(samples_dir)
    got = as_rows(flags, listings)
    expected = expected_rows(samples_dir)
    assert sorted(got - expected) == [] and sorted(expected - got) == []
