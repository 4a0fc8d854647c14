"""Schedules for values that change over training, such as epsilon."""


def linear_schedule(start: float, end: float, duration: int, t: int) -> float:
    """Goes linearly from `start` to `end` over `duration` steps, then stays at `end`.

    A duration of 0 or less means the value is `end` from the first step.
    """
    if duration <= 0 or t >= duration:
        return end
    return start + (end - start) * (max(t, 0) / duration)
