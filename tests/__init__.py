"""The test suite; TEST_SECRET_KEY is long enough for the production guard on PostgreSQL."""

TEST_SECRET_KEY = "test-secret-key-of-at-least-32-characters"
