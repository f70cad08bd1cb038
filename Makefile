# churnlab - build, test, bench, sanitizers, fuzzing.
#
#   make                      build ./churnlab (release)
#   make test                 build and run every test (cmocka, Lua, end-to-end); last line
#                             "N passed, M failed"
#   make SANITIZER=address test   the same under ASan (also: undefined)
#   make check                tests + the core must not include Lua
#   make bench                benchmarks (machine-readable "bench ..." lines) with anchors
#   make fuzz [FUZZ_SECONDS=60]   libFuzzer targets (clang, ASan+UBSan)
#   make report               the main job: data, notebooks, reports/index.html
#   make install PREFIX=/usr/local
#   make WERROR=1             warnings are errors (CI)
#
# Sources are found by wildcard: a new core/<subsystem>/x.c, lua/bind/x.c (a module is
# registered from its luaopen_churnlab_<name> definition), lua/support/x.c, lua/churnlab/x.lua,
# tests/core/<subsystem>/test_x.c or tests/lua/x.lua is built and run with no edit here.

SANITIZER ?=
WERROR ?=
PREFIX ?= /usr/local
FUZZ_SECONDS ?= 60

CC ?= cc
ifeq ($(CC),cc)
  CC := gcc
endif

VARIANT := $(if $(SANITIZER),$(SANITIZER),release)
B := build/$(VARIANT)

# ---- dependencies -------------------------------------------------------------------------
# install-deps.sh runs (once) when pkg-config cannot find a build dependency.
DEPS_OK := $(shell pkg-config --exists lua5.4 cmocka readline sqlite3 ompi jansson libmicrohttpd 2>/dev/null && test -f /usr/include/csv.h \
             && ls /usr/lib/*/openblas-openmp/libopenblas.so >/dev/null 2>&1 \
             && command -v gnuplot >/dev/null && echo yes)
ifneq ($(DEPS_OK),yes)
  $(info churnlab: installing missing build dependencies (scripts/install-deps.sh))
  $(shell sh scripts/install-deps.sh >&2)
endif

MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
BLAS_DIR := /usr/lib/$(MULTIARCH)/openblas-openmp
ifneq ($(wildcard $(BLAS_DIR)/libopenblas.so),)
  # The OpenMP build of OpenBLAS, pinned with an rpath so the alternatives system cannot
  # swap in the pthread build, whose threads would fight our OpenMP kernels for the cores.
  BLAS_CFLAGS := -I/usr/include/$(MULTIARCH)/openblas-openmp
  BLAS_LIBS := -L$(BLAS_DIR) -Wl,-rpath,$(BLAS_DIR) -lopenblas
else
  BLAS_CFLAGS := $(shell pkg-config --cflags openblas 2>/dev/null)
  BLAS_LIBS := $(shell pkg-config --libs openblas 2>/dev/null || echo -lopenblas)
endif
LUA_CFLAGS := $(shell pkg-config --cflags lua5.4)
LUA_LIBS := $(shell pkg-config --libs lua5.4)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka)
RL_LIBS := $(shell pkg-config --libs readline 2>/dev/null || echo -lreadline)

# ---- flags --------------------------------------------------------------------------------
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith \
        -Wformat=2 -Wvla
OPT := -O2 -g
ifeq ($(SANITIZER),address)
  OPT := -O1 -g -fsanitize=address -fno-omit-frame-pointer
else ifeq ($(SANITIZER),undefined)
  OPT := -O1 -g -fsanitize=undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
else ifneq ($(SANITIZER),)
  $(error SANITIZER must be address or undefined)
endif
CPPFLAGS += -D_DEFAULT_SOURCE
CFLAGS += -std=c11 $(OPT) -fopenmp $(WARN) $(if $(WERROR),-Werror) $(BLAS_CFLAGS) -MMD -MP
LDFLAGS += $(filter -fsanitize=%,$(OPT)) -fopenmp
CORE_LIBS := $(BLAS_LIBS) -lcsv -lsqlite3 -lmicrohttpd -ljansson -lm -lpthread

# MPI (distributed training, core/base/dist.c): on when Open MPI's pkg-config file is found;
# `make MPI=0` builds without it (then cl.mpi.size() is 1). A change of MPI rebuilds dist.o
# through the flags file below.
MPI ?= $(shell pkg-config --exists ompi 2>/dev/null && echo 1 || echo 0)
ifeq ($(MPI),1)
  MPI_CFLAGS := -DCL_HAVE_MPI $(shell pkg-config --cflags ompi)
  MPI_LIBS := $(shell pkg-config --libs ompi)
  CORE_LIBS += $(MPI_LIBS)
endif

# ---- sources ------------------------------------------------------------------------------
CORE_SRC := $(sort $(wildcard core/*.c core/*/*.c))
CORE_OBJ := $(CORE_SRC:%.c=$(B)/%.o)
BIND_SRC := $(sort $(wildcard lua/bind/*.c))
HOST_SRC := $(sort $(wildcard lua/support/*.c lua/host/*.c))
HOST_OBJ := $(BIND_SRC:%.c=$(B)/%.o) $(HOST_SRC:%.c=$(B)/%.o) $(B)/gen/lua_embedded.o \
            $(B)/gen/web_assets.o
# The dashboard (web/) and Debian's Chart.js, built into the executable (tools/embed_assets.c).
WEB_FILES := $(sort $(wildcard web/*))
CHARTJS := /usr/share/javascript/chart.js/chart.min.js
WEB_ASSETS := $(foreach f,$(WEB_FILES),$(notdir $(f))=$(f)) chart.js=$(CHARTJS)
LUA_MODS := $(sort $(wildcard lua/churnlab/*.lua lua/churnlab/*/*.lua))
# Module names come from the luaopen_churnlab_<name> definitions, not from file names.
MODNAMES = $(sort $(patsubst luaopen_churnlab_%,%,$(shell grep -ohE '^int luaopen_churnlab_[a-z0-9_]+' $(BIND_SRC) | cut -c5-)))
TEST_SRC := $(sort $(wildcard tests/core/*/test_*.c))
TEST_BIN := $(TEST_SRC:tests/%.c=$(B)/tests/%)
BENCH_SRC := $(sort $(wildcard scripts/bench/*.c))
BENCH_BIN := $(BENCH_SRC:scripts/bench/%.c=$(B)/bench/%)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))

LIB := $(B)/libchurnlab.a
EXE := $(B)/churnlab

.PHONY: all test check check-core bench fuzz clean install report data valgrind test-browser tests-build serve
.DEFAULT_GOAL := all

all: $(EXE)
ifeq ($(VARIANT),release)
	@ln -sf $(EXE) churnlab
endif

$(B)/core/%.o: core/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(B)/core/%.o: CPPFLAGS += -Icore
# only dist.c sees mpi.h: the rest of the core is the same with or without MPI
$(B)/core/base/dist.o: CPPFLAGS += $(MPI_CFLAGS)
$(B)/core/base/dist.o: $(B)/gen/mpi.flag
$(B)/gen/mpi.flag: FORCE
	@mkdir -p $(@D)
	@echo 'MPI=$(MPI)' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
$(B)/lua/%.o: lua/%.c $(B)/gen/modules.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LUA_CFLAGS) -Ilua -Icore -I$(B)/gen -c $< -o $@

$(LIB): $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

# One line per binding: CL_MODULE(tensor) ... Rewritten only when the list changes.
$(B)/gen/modules.h: FORCE
	@mkdir -p $(@D)
	@printf '%s\n' $(foreach m,$(MODNAMES),'CL_MODULE($(m))') > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
FORCE:

$(B)/gen/embed: tools/embed.c
	@mkdir -p $(@D)
	$(CC) -O1 -o $@ $<

$(B)/gen/lua_embedded.c: $(B)/gen/embed $(LUA_MODS) $(B)/gen/mods.list
	$(B)/gen/embed $@ $(LUA_MODS)

$(B)/gen/mods.list: FORCE
	@mkdir -p $(@D)
	@printf '%s\n' $(LUA_MODS) > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(B)/gen/embed_assets: tools/embed_assets.c
	@mkdir -p $(@D)
	$(CC) -O1 -o $@ $<

$(B)/gen/web_assets.c: $(B)/gen/embed_assets $(WEB_FILES) $(wildcard $(CHARTJS)) $(B)/gen/web.list
	$(B)/gen/embed_assets $@ $(WEB_ASSETS)

$(B)/gen/web.list: FORCE
	@mkdir -p $(@D)
	@printf '%s\n' $(WEB_ASSETS) > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(B)/gen/web_assets.o: $(B)/gen/web_assets.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-missing-prototypes -Icore -c $< -o $@

$(B)/gen/lua_embedded.o: $(B)/gen/lua_embedded.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-missing-prototypes -Ilua -c $< -o $@

# -rdynamic: the executable exports its symbols, so a plugin loaded with package.loadlib (a
# model kind registered with cl_model_kinds_register: tests/lua/plugins/) links against this copy.
$(EXE): $(HOST_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -rdynamic -o $@ $(HOST_OBJ) $(LIB) $(LUA_LIBS) $(RL_LIBS) $(CORE_LIBS)

# ---- tests --------------------------------------------------------------------------------
$(B)/tests/%: tests/%.c $(LIB) $(wildcard tests/*.h tests/data/*.h)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Icore -Itests -o $@ $< $(LIB) $(LDFLAGS) $(CMOCKA_LIBS) $(CORE_LIBS)

# Plugins the Lua tests load (package.loadlib): resolved against the executable's symbols.
PLUGIN_SRC := $(sort $(wildcard tests/lua/plugins/*.c))
PLUGIN_SO := $(PLUGIN_SRC:tests/lua/plugins/%.c=$(B)/tests/plugins/%.so)
$(B)/tests/plugins/%.so: tests/lua/plugins/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LUA_CFLAGS) -fPIC -shared -Icore -o $@ $<

tests-build: all $(TEST_BIN) $(PLUGIN_SO)

test: tests-build
	@sh tests/run.sh $(B)

check: test check-core

# The layering rule alone (CI runs the tests separately).
check-core:
	@if grep -rlE '#include *[<"](lua|lauxlib|lualib)' core; then \
	    echo "check: core/ must not include Lua (DESIGN.md)"; exit 1; fi
	@echo "check: core/ is free of Lua"

valgrind: $(EXE)
	@VALGRIND=1 sh tests/run.sh $(B) lua

# ---- benchmarks ---------------------------------------------------------------------------
$(B)/bench/%: scripts/bench/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -O3 -Icore -o $@ $< $(LIB) $(LDFLAGS) $(CORE_LIBS)

bench: $(EXE) $(BENCH_BIN)
	@sh scripts/bench/run.sh $(B)

# ---- fuzzing ------------------------------------------------------------------------------
# The core is compiled once (instrumented for coverage, ASan and UBSan; libFuzzer's main is
# linked only into the targets), then each target links against those objects.
FUZZ_CFLAGS := -std=c11 -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
               -fno-sanitize-recover=undefined -fopenmp=libgomp \
               -D_DEFAULT_SOURCE -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION $(BLAS_CFLAGS) -Icore
FUZZ_OBJ := $(CORE_SRC:core/%.c=build/fuzz/core/%.o)
.SECONDARY: $(FUZZ_OBJ)
fuzz: $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
	@sh tests/fuzz/run.sh build/fuzz $(FUZZ_SECONDS)

build/fuzz/core/%.o: core/%.c
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

build/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJ)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(BLAS_LIBS) -lcsv -lsqlite3 -lmicrohttpd -ljansson -lm \
	    -lpthread -lgomp

# ---- main job -----------------------------------------------------------------------------
report: all
	@sh scripts/report.sh

# Notebook 06's 90% intervals against the truth over 50 seeded worlds (gen_data, 02 and 06 on
# each: about a minute a world, so not part of test or report): reports/strategy_coverage.json,
# which notebook 06 copies into strategy_check.json when it is there.
STRATEGY_WORLDS ?= 50
strategy-coverage: all
	@mkdir -p reports
	$(EXE) scripts/strategy_coverage.lua $(STRATEGY_WORLDS) 4000 1 reports/strategy_coverage.json
.PHONY: strategy-coverage

# The live dashboard and API on the default world: data, features and the model of notebook 03
# first when they are missing, then `churnlab serve $(SERVE_ARGS)` (Ctrl-C stops it).
serve: data
	@test -f data/synth/features.csv || $(EXE) notebooks/02_features.lua
	@test -f models/best.clm || $(EXE) notebooks/03_models.lua
	$(EXE) serve $(SERVE_ARGS)

test-browser: all
	@sh tests/browser/run.sh $(B)

SYNTH_FILES := $(addprefix data/synth/,titles.csv users.csv events.csv ratings.csv campaign.csv truth.csv README.md emails.csv)
data: all
	@for f in $(SYNTH_FILES); do test -f $$f || { $(EXE) scripts/gen_data.lua data/synth; exit $$?; }; done

# The executable, plus what the main job needs to run elsewhere: the notebooks, the scripts
# (data generation, scoring), the README and churnlab-report, which runs the notebooks in a
# folder of the user's choosing.
SHARE_DIR = $(PREFIX)/share/churnlab
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(SHARE_DIR)/notebooks $(DESTDIR)$(SHARE_DIR)/scripts
	install -m 755 $(EXE) $(DESTDIR)$(PREFIX)/bin/churnlab
	install -m 644 notebooks/*.lua $(DESTDIR)$(SHARE_DIR)/notebooks/
	install -m 644 scripts/*.lua $(DESTDIR)$(SHARE_DIR)/scripts/
	install -m 644 README.md $(DESTDIR)$(SHARE_DIR)/
	sed 's|@SHARE@|$(SHARE_DIR)|' scripts/report.sh > $(DESTDIR)$(PREFIX)/bin/churnlab-report.tmp
	chmod 755 $(DESTDIR)$(PREFIX)/bin/churnlab-report.tmp
	mv $(DESTDIR)$(PREFIX)/bin/churnlab-report.tmp $(DESTDIR)$(PREFIX)/bin/churnlab-report

clean:
	rm -rf build churnlab

-include $(CORE_OBJ:.o=.d) $(HOST_OBJ:.o=.d) $(TEST_BIN:=.d) $(FUZZ_OBJ:.o=.d)
