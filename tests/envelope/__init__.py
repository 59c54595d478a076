"""Tests of the envelope domain."""
