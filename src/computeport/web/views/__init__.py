"""Read models for the pages: each gathers one page's figures from the domain services.

They only read; anything a page changes goes through the owning domain's service.
"""
