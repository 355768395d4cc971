"""The pricing engine: rule sets, conversion (差比价), benchmarks, limit prices, rules, detection."""
