# fedalert: the two quick-start commands, plus the docker test network.
#   make demo          a whole federation on this machine (keys, matcher, three areas, alerts, consoles);
#                      it keeps running until Ctrl-C
#   make test          the whole test suite (unit, integration, end to end, docker)
#   make docker-up     the compose test network; make docker-down [VOLUMES=1] stops it
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
VOLUMES ?= 0

.PHONY: install demo test codegen docker-base docker-up docker-down

$(BIN)/fedalert: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/fedalert

demo: install
	$(BIN)/fedalert demo --keep

test: install
	$(BIN)/python -m pytest

codegen: install
	$(BIN)/python -m fedalert.codegen

docker-base:
	bash docker/scripts/make-base-image.sh

docker-up:
	bash docker/scripts/up.sh

docker-down:
	VOLUMES=$(VOLUMES) bash docker/scripts/down.sh
