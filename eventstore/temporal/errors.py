"""How errors cross the Temporal boundary, the same way in every app. Pure Python, no Django:
workflow modules import it through the sandbox's pass-through.

- An activity whose error is the caller's fault (bad input, a conflict, a business refusal) fails
  at once with a non-retryable ApplicationError that carries the error's type name
  (`errors_are_final`); anything else is retried by Temporal.
- A workflow that gives up on an activity fails with the activity's own message and type
  (`workflow_failure`), not with Temporal's generic "activity task failed".
"""

import functools
from typing import Callable

from temporalio.exceptions import ActivityError, ApplicationError, FailureError


def errors_are_final(*error_types: type[Exception], type_name: str | None = None,
                     details: Callable[[Exception], tuple] = lambda error: ()) -> Callable:
    """Decorate an activity: `error_types` become non-retryable ApplicationErrors.

    The ApplicationError's type is `type_name`, or else the error's own class name; `details`
    picks what travels with it (for example the offending field).
    """

    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            except error_types as error:
                raise ApplicationError(str(error), *details(error), type=type_name or type(error).__name__,
                                       non_retryable=True) from error

        return wrapper

    return decorate


def workflow_failure(error: ActivityError) -> ApplicationError:
    """The failure a workflow raises when an activity gave up: the cause's message, type and details."""
    cause = error.cause
    message = cause.message if isinstance(cause, FailureError) else str(cause or error)  # str() adds the type
    return ApplicationError(message, *getattr(cause, "details", ()), type=getattr(cause, "type", None),
                            non_retryable=True)


def caused_by(error: BaseException | None, type_name: str) -> bool:
    """Whether an ApplicationError of `type_name` is anywhere down the chain of causes (local and
    remote activity failures wrap the activity's error differently)."""
    return cause_of(error, type_name) is not None


def cause_of(error: BaseException | None, type_name: str) -> ApplicationError | None:
    """The ApplicationError of `type_name` down the chain of causes, if there is one."""
    while error is not None:
        if isinstance(error, ApplicationError) and error.type == type_name:
            return error
        error = getattr(error, "cause", None)
    return None
