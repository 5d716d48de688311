"""Developer tooling: the demo, the benchmark and the local environment they and the tests share."""
