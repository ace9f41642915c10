"""Use cases. A service takes plain values, a session and a clock; it never commits."""
