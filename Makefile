# azconjur - build, test and install.
#
# Knobs a user may turn (make VAR=value):
#   CC        C compiler (default cc)
#   CFLAGS    extra compiler flags, added after ours
#   LDFLAGS   extra linker flags
#   PREFIX    install prefix (default /usr/local)
#   DESTDIR   staging root for packagers (default empty)
#   SANITIZE  1 to build and test with AddressSanitizer and UBSan
#   PYTHON    Python 3 with python3-cryptography (default Debian's)
#   V         1 to show full compiler command lines

CC ?= cc
PREFIX ?= /usr/local
DESTDIR ?=
SANITIZE ?= 0
PYTHON ?= /usr/bin/python3
VERSION := 0.1.0

PKGS := lua5.4 libcurl openssl yaml-0.1
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -llua5.4-cjson

WARNINGS := -Wall -Wextra -Wshadow -Wundef -Wwrite-strings -Wredundant-decls \
	-Wmissing-declarations -Wdouble-promotion -Wmissing-prototypes \
	-Wstrict-prototypes -Wold-style-definition -Wformat=2 -Wno-format-nonliteral

ifeq ($(SANITIZE),1)
BUILD := build/sanitize
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT := -O1 -g
else
BUILD := build
SAN_FLAGS :=
OPT := -O2 -g
endif

ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -DAZCONJUR_VERSION='"$(VERSION)"' $(OPT) \
	$(WARNINGS) $(SAN_FLAGS) $(PKG_CFLAGS) -Icore $(CFLAGS)
ALL_LDFLAGS := $(SAN_FLAGS) $(LDFLAGS)

CORE_SRC := $(filter-out core/main.c,$(wildcard core/*.c))
CORE_OBJ := $(CORE_SRC:core/%.c=$(BUILD)/core/%.o) $(BUILD)/embedded.o
LUA_MODULES := $(sort $(wildcard lua/*.lua lua/*/*.lua))
UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_OBJ := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit/%.o)

BIN := $(BUILD)/azconjur
UNIT_BIN := $(BUILD)/unit-tests

ifeq ($(V),1)
Q :=
else
Q := @
endif

.PHONY: all deps check test demo bench lint clean install

all: $(BIN)

$(BIN): $(BUILD)/core/main.o $(CORE_OBJ)
	@echo "LINK $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(UNIT_BIN): $(UNIT_OBJ) $(CORE_OBJ)
	@echo "LINK $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/core/%.o: core/%.c $(wildcard core/*.h) | $(BUILD)/core
	@echo "CC   $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/unit/%.o: tests/unit/%.c $(wildcard core/*.h tests/unit/*.h) | $(BUILD)/unit
	@echo "CC   $<"
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit -c -o $@ $<

$(BUILD)/embedded.c: $(LUA_MODULES) scripts/embed-lua | $(BUILD)
	@echo "GEN  $@"
	$(Q)scripts/embed-lua $@ $(LUA_MODULES)

$(BUILD)/embedded.o: $(BUILD)/embedded.c
	@echo "CC   $<"
	$(Q)$(CC) $(ALL_CFLAGS) -Wno-missing-variable-declarations -c -o $@ $<

$(BUILD) $(BUILD)/core $(BUILD)/unit:
	$(Q)mkdir -p $@

# Install the Debian packages needed to build, test and run the demo.
# Does nothing when they are all present.
deps:
	$(Q)scripts/install-deps

# The whole test suite: C unit tests, Lua tests, integration tests.
check: $(BIN) $(UNIT_BIN)
	$(Q)AZCONJUR=$(BIN) UNIT_TESTS=$(UNIT_BIN) PYTHON=$(PYTHON) tests/run

test: check

lint:
	$(Q)scripts/lint

demo: $(BIN)
	$(Q)AZCONJUR=$(BIN) PYTHON=$(PYTHON) scripts/demo

bench: $(BIN)
	$(Q)AZCONJUR=$(BIN) PYTHON=$(PYTHON) bench/run

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/azconjur
	ln -sf azconjur $(DESTDIR)$(PREFIX)/bin/summon-azconjur

clean:
	rm -rf build

# libFuzzer pass over the parsers (clang; not part of `make check`).
#   make fuzz [FUZZ_TIME=60]   runs every target for FUZZ_TIME seconds
FUZZ_TIME ?= 60
FUZZ_BUILD := build/fuzz
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer

$(FUZZ_BUILD)/fuzz-parsers: tests/fuzz/fuzz_parsers.c $(CORE_SRC) $(BUILD)/embedded.c $(wildcard core/*.h)
	$(Q)mkdir -p $(FUZZ_BUILD)
	@echo "LINK $@"
	$(Q)clang -std=c11 -D_GNU_SOURCE -DAZCONJUR_VERSION='"$(VERSION)"' \
		$(FUZZ_FLAGS) $(PKG_CFLAGS) -Icore -o $@ tests/fuzz/fuzz_parsers.c \
		$(CORE_SRC) $(BUILD)/embedded.c $(PKG_LIBS)

.PHONY: fuzz
fuzz: $(FUZZ_BUILD)/fuzz-parsers
	$(Q)mkdir -p $(FUZZ_BUILD)/corpus
	$(Q)$(FUZZ_BUILD)/fuzz-parsers -max_total_time=$(FUZZ_TIME) -max_len=4096 \
		-artifact_prefix=$(FUZZ_BUILD)/ $(FUZZ_BUILD)/corpus tests/fuzz/seeds
