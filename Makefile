# Docker test network targets (docker/). The lead adds demo/test targets on merge.
#   make docker-base            registry-free base image fedalert-base:bookworm (debootstrap)
#   make docker-up              build, key ceremony, matcher + 3 areas, load data, show alerts
#   make docker-down [VOLUMES=1]  stop; VOLUMES=1 also removes keys and state
.PHONY: docker-base docker-up docker-down

VOLUMES ?= 0

docker-base:
	bash docker/scripts/make-base-image.sh

docker-up:
	bash docker/scripts/up.sh

docker-down:
	VOLUMES=$(VOLUMES) bash docker/scripts/down.sh
