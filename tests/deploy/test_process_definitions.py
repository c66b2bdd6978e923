"""deploy/systemd/ and deploy/Procfile run what the code has: each `manage.py` command exists and
takes the options given, gunicorn accepts the configuration and application named, and systemd finds
nothing wrong with the units once they point at this checkout."""

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import get_commands, load_command_class

from tests.deploy.conftest import needs
from tests.processes import command_env

CHECKOUT = Path(settings.BASE_DIR)
DEPLOY = CHECKOUT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
INSTALLED_CHECKOUT = "/srv/payments"  # where the units expect the release


def unit_settings(path: Path) -> dict[str, list[str]]:
    """`Section.Key` -> its values in order (systemd allows a key more than once, e.g. ExecStart)."""
    found, section = {}, None
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, separator, value = line.partition("=")
        assert separator and section, f"{path.name}: not a unit file line: {line!r}"
        found.setdefault(f"{section}.{key.strip()}", []).append(value.strip())
    return found


def unit_commands() -> list[tuple[str, list[str]]]:
    return [(path.name, shlex.split(command)) for path in UNITS for command in unit_settings(path)["Service.ExecStart"]]


def procfile_commands() -> list[tuple[str, list[str]]]:
    commands = []
    for line in (DEPLOY / "Procfile").read_text().splitlines():
        process, _, command_line = line.partition(":")
        commands += [(f"Procfile {process}", shlex.split(each)) for each in command_line.split("&&")]
    return commands


COMMANDS = unit_commands() + procfile_commands()


def test_the_units_and_the_procfile_run_the_web_server_the_worker_and_the_migrations():
    programs = {Path(words[0]).name + " " + words[1] for _, words in COMMANDS}

    assert [path.name for path in UNITS] == ["payments-migrate.service", "payments-web.service", "payments-worker@.service"]
    assert {"python manage.py", "gunicorn --config", "pybabel --quiet"} == programs  # pybabel: the message catalogs
    assert {words[2] for _, words in COMMANDS if words[1] == "manage.py"} == {"migrate", "collectstatic", "temporal_worker"}
    for path in UNITS:
        assert unit_settings(path)["Service.WorkingDirectory"] == [INSTALLED_CHECKOUT]


@pytest.mark.parametrize("where, words", [each for each in COMMANDS if each[1][1] == "manage.py"],
                         ids=lambda each: each if isinstance(each, str) else " ".join(each[1:]))
def test_each_management_command_exists_and_takes_its_options(where, words):
    name, options = words[2], words[3:]
    commands = get_commands()

    assert name in commands, f"{where}: manage.py has no command {name!r}"
    parser = load_command_class(commands[name], name).create_parser("manage.py", name)
    parser.parse_args(options)  # exits (SystemExit) on an option the command does not take


@pytest.mark.parametrize("where, words", [each for each in COMMANDS if Path(each[1][0]).name == "gunicorn"],
                         ids=lambda each: each if isinstance(each, str) else "")
def test_gunicorn_loads_the_configuration_and_application_named(where, words):
    arguments = [argument.replace("$PORT", "8000") for argument in words[1:]]
    gunicorn = Path(sys.executable).with_name("gunicorn")

    checked = subprocess.run([str(gunicorn), "--check-config", *arguments], cwd=CHECKOUT, env=command_env(),
                             capture_output=True, text=True, timeout=120)

    assert checked.returncode == 0, f"{where}: {checked.stdout}{checked.stderr}"


@needs("systemd-analyze")
def test_systemd_finds_nothing_wrong_with_the_units(tmp_path):
    for path in UNITS:  # pointed at this checkout, so that systemd finds the programs they run
        (tmp_path / path.name).write_text(path.read_text().replace(INSTALLED_CHECKOUT, str(CHECKOUT)))

    verified = subprocess.run([shutil.which("systemd-analyze"), "verify", "--man=no", *sorted(tmp_path.iterdir())],
                              capture_output=True, text=True, timeout=120)

    assert verified.returncode == 0 and not verified.stderr.strip(), verified.stdout + verified.stderr
