# Zoo: two commands do everything on a fresh machine.
#   make demo   install what is missing, build, run the demo on built-in defaults
#   make test   install what is missing, build, run every test
SWIFT ?= swift

.PHONY: setup build demo test bench clean

setup:
	bash scripts/setup.sh

build: setup
	$(SWIFT) build -c release --product zoo

demo: build
	bash scripts/demo.sh

test: setup
	$(SWIFT) test

bench: setup
	bash bench/run.sh

clean:
	rm -rf .build
