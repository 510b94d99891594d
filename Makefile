# Zoo: two commands do everything on a fresh machine.
#   make demo   install what is missing, build, run the seed chapter's transfer experiment, then the second
#               edition's transfer recipe on EfficientNet-Lite0 (seeds 0 1 2; RECIPE_SEEDS=0 for one)
#   make test   install what is missing, build, run every test and the library example
#   make docs   the DocC documentation of ZooFormat, ZooNet and ZooKit (warnings are errors,
#               every public symbol documented); archives in .build/plugins/Swift-DocC/outputs
SWIFT ?= swift

.PHONY: setup build demo formats-demo test docs bench bench-net parity register fuzz clean

setup:
	bash scripts/setup.sh

build: setup
	$(SWIFT) build -c release --product zoo

RECIPE_SEEDS ?= 0 1 2

demo: build
	bash scripts/seed_experiment.sh
	SEEDS="$(RECIPE_SEEDS)" bash scripts/transfer_recipe.sh

formats-demo: build
	bash scripts/formats_demo.sh

# The example first, so that the test runner's summary closes the output.
test: setup
	CONFIGURATION=debug bash Examples/run.sh
	$(SWIFT) test

docs: setup
	$(SWIFT) package --disable-sandbox generate-documentation --target ZooFormat --target ZooNet --target ZooKit \
		--warnings-as-errors --experimental-documentation-coverage --coverage-summary-level brief
	python3 scripts/check_doc_coverage.py .build/plugins/Swift-DocC/outputs

bench: setup
	bash bench/run.sh

bench-net: setup
	bash bench/net/run.sh

# Every Keras Application (Keras 3 and tf-keras files made by the peers in a venv) and every built-in PyTorch
# architecture predicted by Zoo: tables of max |zoo - peer| per model (scripts/parity/README.md).
# OUT=dir (default .build/parity), ONLY=A,B, SWEEP=keras|torch|all.
parity: setup
	bash scripts/parity/run.sh

# libFuzzer targets (Fuzz/, a package of its own): FUZZ_SECONDS per target (default 60), FUZZ_TARGETS to choose.
fuzz: setup
	bash scripts/fuzz.sh

register: build
	bash registry/register.sh

clean:
	rm -rf .build
