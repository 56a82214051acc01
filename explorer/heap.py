"""Giving freed memory back to the system, for long-lived processes (the server, its training
workers) whose peaks come and go with the class."""

from __future__ import annotations


def trim_heap() -> bool:
    """Hand freed heap memory back to the system with glibc's ``malloc_trim(0)``; returns
    whether it could (False off glibc, where nothing is done).

    After a large free, glibc raises its mmap threshold, so later large blocks (weight matrices,
    batches) come from the heap, and the heap keeps its free space unless trimmed: a process's
    resident memory then stays at its peak after the objects are gone."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
        return True
    except (OSError, AttributeError):
        return False
