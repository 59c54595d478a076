"""Tests of the seed domain."""
