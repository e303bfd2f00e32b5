"""Test support for Baocao's suites and benchmarks: real Kafka and PostgreSQL fixtures, the services as
processes, bounded waits, topic readers, token minting, the authorization matrix and page readers.

Not part of any service: only tests, `bench/` and the fault suite import it.
"""
