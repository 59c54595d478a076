"""Tests of the progress domain."""
