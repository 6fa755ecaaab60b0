"""Development-only harnesses, never shipped: loopback fakes of the vendors' APIs, synthetic songs with known beat
grids, and the local process stacks (Redis, Prefect servers, workers, PostgreSQL, moto S3) that tests and benchmarks
start on free loopback ports."""
