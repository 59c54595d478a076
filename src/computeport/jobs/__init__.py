"""Jobs for applicants (submit on one of their awards, list, show, cancel) and cluster views."""
