"""Every named refusal of the four services answers with the stable code of its kind: a named error may add
attributes for its page, never change the word programs read (an unknown province once answered with the
province's code, "HD", where programs read "not_found")."""

import importlib
import inspect
import pkgutil

import pytest

from baocao_shared.errors import DomainError

SERVICES = ("intake", "deadlines", "consolidation", "notify")
# Refusals whose own word is the contract (issue 17): a client tells "closed, ask the office for an exception" and
# "history, the office imports it" from any other conflict. Adding one here is a decision, not a fix.
OWN_CODES = {"intake.PeriodClosed": "period_closed", "intake.PeriodIsHistory": "period_history"}


def named_errors():
    """Every named error of every service: `<service>.domain.errors` and any other `<service>.domain.*errors`."""
    for service in SERVICES:
        domain = importlib.import_module(f"{service}.domain")
        names = sorted(m.name for m in pkgutil.iter_modules(domain.__path__) if m.name.endswith("errors"))
        assert "errors" in names, service
        for module in (importlib.import_module(f"{service}.domain.{name}") for name in names):
            for name, value in vars(module).items():
                if inspect.isclass(value) and issubclass(value, DomainError) and value.__module__ == module.__name__:
                    yield pytest.param(value, id=f"{service}.{name}")


def built(error_class: type[DomainError]) -> DomainError:
    """An instance, with a plain value for every argument its constructor takes."""
    arguments = {}
    for name, parameter in inspect.signature(error_class).parameters.items():
        if (
            parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
            or parameter.default is not parameter.empty
        ):
            continue
        arguments[name] = 1 if parameter.annotation in (int, "int") else "X"
    positional = [a for a in inspect.signature(error_class).parameters.values() if a.kind is a.POSITIONAL_ONLY]
    return error_class(*(arguments.pop(p.name) for p in positional), **arguments)


@pytest.mark.parametrize("error_class", list(named_errors()))
def test_a_named_error_keeps_the_code_of_its_kind(error_class):
    kind = next(k for k in error_class.__mro__ if k.__module__ == "baocao_shared.errors")
    error = built(error_class)
    name = f"{error_class.__module__.split('.')[0]}.{error_class.__name__}"
    expected = OWN_CODES.get(name, kind.code)
    assert error.code == expected, f"{error_class.__name__} answers code {error.code!r}, not {expected!r}"
    assert error.message, f"{error_class.__name__} says nothing a person could act on"
