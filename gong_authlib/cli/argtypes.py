"""Argument types for the parser: a bad value is argparse's usage error (exit 2), with the
option named, instead of an exception deep inside a command."""

from __future__ import annotations

import argparse
import math

from gong_authlib.safe_text import customer_problem


def customer_name(text: str) -> str:
    problem = customer_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return text


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("a number of seconds, such as 600") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError("a finite number of seconds above 0, such as 600")
    return value
