"""Tests of the notification domain."""
