"""Tests of the award domain."""
