"""Demo data: generators of realistic feed files for local runs, tests and benchmarks."""
