# ecrmock: an in-process fake of Amazon ECR for C unit tests.
#
#   make demo      build and run the main example (installs missing -dev packages as root)
#   make test      build and run every test
#   make asan      the tests under AddressSanitizer + UBSan
#   make valgrind  the tests under valgrind memcheck
#   make tsan      the concurrent tests under ThreadSanitizer
#   make install PREFIX=/usr/local [DESTDIR=/tmp/stage]  the libraries, headers, pkg-config files, programs
#   make check-schemas  the shipped fixtures and scenarios against their JSON Schemas
#   make fuzz      the libFuzzer targets (clang), FUZZ_SECONDS each (default 60)
#   make bench     the benchmarks: a table, and bench/results.json
#   make model     regenerate src/core/model_gen.c from ../shared/ecr-model/service-2.json
#   make fixture-schema  regenerate src/tooling/fixture_schema_gen.c from fixtures/fixture.schema.json

CC      ?= cc
PREFIX  ?= /usr/local
BUILD   ?= build
MODEL   ?= ../shared/ecr-model/service-2.json

PKGS    := jansson libpcre2-8 libcrypto
# Quiet by default: `make V=1` shows the commands.
Q       := $(if $(V),,@)
WARN    := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers
CFLAGS  ?= -O2 -g
ALL_CFLAGS = $(WARN) $(CFLAGS) -D_POSIX_C_SOURCE=200809L -fPIC -fvisibility=hidden -Iinclude -Isrc \
             $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS    = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread
TEST_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)
# The loopback server only (libecrmock_server, ecrmock-server): the core never links it.
# libssl: its HTTPS side (server/tls.c).
MHD_CFLAGS = $(shell pkg-config --cflags libmicrohttpd libssl 2>/dev/null)
MHD_LIBS = $(shell pkg-config --libs libmicrohttpd libssl 2>/dev/null)
# The libcurl level only (libecrmock_curl, its preload object, the curl example and test).
CURL_CFLAGS = $(shell pkg-config --cflags libcurl 2>/dev/null)
CURL_LIBS = $(shell pkg-config --libs libcurl 2>/dev/null)
CURL_WRAP = -Wl,--wrap=curl_easy_init,--wrap=curl_easy_setopt,--wrap=curl_easy_perform,--wrap=curl_easy_getinfo \
            -Wl,--wrap=curl_easy_cleanup,--wrap=curl_easy_reset,--wrap=curl_easy_duphandle \
            -Wl,--wrap=nanosleep,--wrap=usleep,--wrap=sleep

VERSION := $(shell sed -n 's/^\#define ECRMOCK_VERSION_STRING "\(.*\)"/\1/p' include/ecrmock.h)
# The pkg-config files: ecrmock (the library), ecrmock-curl (the libcurl level with its --wrap
# flags), ecrmock-server (the loopback server).
PC_FILES := ecrmock.pc ecrmock-curl.pc ecrmock-server.pc

SRC     := $(sort $(wildcard src/*.c src/*/*.c))
# Every public header: <ecrmock.h> includes those of include/ecrmock/ at its end.
PUBLIC_HDRS := $(wildcard include/*.h include/ecrmock/*.h include/ecrmock/sys/*.h)
OBJ     := $(SRC:src/%.c=$(BUILD)/obj/%.o)
HDRS    := $(wildcard src/*.h src/*/*.h)
# tests/unit: the cmocka tests, one binary per area; tests/checks: shell checks of the built
# libraries and README; tests/e2e: end-to-end scripts; tests/fuzz: libFuzzer targets, corpora.
TESTS   := $(sort $(wildcard tests/unit/test_*.c))
TEST_BINS := $(TESTS:tests/unit/%.c=$(BUILD)/tests/%)
# The tests' shared helpers, compiled once into a static library every test links.
TEST_HELPERS := tests/unit/helpers.c tests/unit/alloc_fail.c
TEST_HELPER_LIB := $(BUILD)/test-helpers/libtesthelpers.a
# examples/curl_client.c and registry_pull.c are libcurl programs without ecrmock: their own rules, run by
# tests/unit/test_curl.c.
EXAMPLES := $(filter-out examples/curl_client.c examples/registry_pull.c,$(sort $(wildcard examples/*.c)))
EXAMPLE_BINS := $(EXAMPLES:examples/%.c=$(BUILD)/examples/%)
FIXTURES := $(filter-out %.schema.json,$(wildcard fixtures/*.json))
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
REPLAY_BINS := $(FUZZ_TARGETS:%=$(BUILD)/fuzz-replay/%)

.PHONY: all deps demo test asan valgrind tsan fuzz bench check-exports check-headers check-schemas install model fixture-schema clean
.DELETE_ON_ERROR:

all: deps $(BUILD)/libecrmock.a $(BUILD)/libecrmock.so $(BUILD)/ecrmock.pc $(BUILD)/ecrmock-run \
     $(BUILD)/libecrmock_server.a $(BUILD)/ecrmock-server $(BUILD)/libecrmock_curl.a $(BUILD)/libecrmock_curl_preload.so \
     $(PC_FILES:%=$(BUILD)/%) $(BUILD)/libecrmock.so.0

deps:
	@sh tools/deps.sh

$(BUILD)/obj/%.o: src/%.c $(HDRS) $(PUBLIC_HDRS) | $(BUILD)/obj
	@mkdir -p $(@D)
	@echo "  CC $@"
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

# Made afresh: an object of a file that moved must not stay in the archive.
$(BUILD)/libecrmock.a: $(OBJ)
	@echo "  AR $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/libecrmock.so: $(OBJ)
	@echo "  CC $@"
	$(Q)$(CC) -shared -Wl,-soname,libecrmock.so.0 $(LDFLAGS) -o $@ $^ $(LIBS)

# Its soname's link: a program linked against build/libecrmock.so runs from build/.
$(BUILD)/libecrmock.so.0: $(BUILD)/libecrmock.so
	$(Q)ln -sf libecrmock.so $@

$(BUILD)/obj/server/%.o: server/%.c server/tls.h $(PUBLIC_HDRS) | $(BUILD)/obj/server
	@echo "  CC $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(MHD_CFLAGS) -c $< -o $@

$(BUILD)/libecrmock_server.a: $(BUILD)/obj/server/server.o $(BUILD)/obj/server/tls.o
	@echo "  AR $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/ecrmock-server: tools/ecrmock_server.c $(BUILD)/libecrmock_server.a $(BUILD)/libecrmock.a
	@echo "  CC $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) $< -o $@ $(BUILD)/libecrmock_server.a $(BUILD)/libecrmock.a $(LIBS) $(MHD_LIBS)

# The libcurl level: the interposer's core and its two modes (--wrap, LD_PRELOAD).
$(BUILD)/obj/curl/%.o: curl/%.c curl/interpose.h $(HDRS) $(PUBLIC_HDRS) | $(BUILD)/obj/curl
	@echo "  CC $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(CURL_CFLAGS) -c $< -o $@

$(BUILD)/libecrmock_curl.a: $(BUILD)/obj/curl/interpose.o $(BUILD)/obj/curl/wrap.o
	@echo "  AR $@"
	$(Q)ar rcs $@ $^

# The preload object holds ecrmock itself: a process gets its instance at load time.
$(BUILD)/libecrmock_curl_preload.so: $(BUILD)/obj/curl/interpose.o $(BUILD)/obj/curl/preload.o $(OBJ)
	@echo "  CC $@"
	$(Q)$(CC) -shared $(LDFLAGS) -o $@ $^ $(LIBS) $(CURL_LIBS) -ldl

# The curl example as its authors build it: libcurl and OpenSSL, nothing of ecrmock.
$(BUILD)/examples/curl_client: examples/curl_client.c examples/ecr_sigv4.h | $(BUILD)/examples
	@echo "  CC $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(CURL_CFLAGS) $< -o $@ $(LDFLAGS) $(CURL_LIBS) $(shell pkg-config --libs libcrypto)

# The same source, its main renamed, linked into the --wrap test.
$(BUILD)/obj/curl/curl_client_main.o: examples/curl_client.c examples/ecr_sigv4.h | $(BUILD)/obj/curl
	@echo "  CC $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(CURL_CFLAGS) -Dmain=curl_client_main -Wno-missing-prototypes -c $< -o $@

# The registry example likewise: as its authors build it, and its main renamed for the --wrap test.
$(BUILD)/examples/registry_pull: examples/registry_pull.c examples/ecr_sigv4.h | $(BUILD)/examples
	@echo "  CC $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(CURL_CFLAGS) $< -o $@ $(LDFLAGS) $(CURL_LIBS) $(shell pkg-config --libs libcrypto)

$(BUILD)/obj/curl/registry_pull_main.o: examples/registry_pull.c examples/ecr_sigv4.h | $(BUILD)/obj/curl
	@echo "  CC $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(CURL_CFLAGS) -Dmain=registry_pull_main -Wno-missing-prototypes -c $< -o $@

$(BUILD)/tests/test_curl: tests/unit/test_curl.c tests/unit/*.h $(BUILD)/obj/curl/curl_client_main.o $(BUILD)/libecrmock_curl.a \
    $(TEST_HELPER_LIB) $(BUILD)/libecrmock.a $(BUILD)/libecrmock_curl_preload.so $(BUILD)/examples/curl_client \
    $(BUILD)/obj/curl/registry_pull_main.o $(BUILD)/examples/registry_pull | $(BUILD)/tests
	@echo "  CC $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(CURL_CFLAGS) -Itests/unit -DECRMOCK_BUILD_DIR='"$(BUILD)"' $< $(BUILD)/obj/curl/curl_client_main.o \
	    $(BUILD)/obj/curl/registry_pull_main.o \
	    -o $@ $(CURL_WRAP) $(TEST_HELPER_LIB) $(BUILD)/libecrmock_curl.a $(BUILD)/libecrmock.a $(LDFLAGS) $(LIBS) $(CURL_LIBS) $(TEST_LIBS)

# The loopback server's tests (test_server_tls: its HTTPS side): libecrmock_server, libmicrohttpd and libssl too.
$(BUILD)/tests/test_server $(BUILD)/tests/test_server_tls: $(BUILD)/tests/%: tests/unit/%.c tests/unit/*.h $(TEST_HELPER_LIB) \
    $(BUILD)/libecrmock_server.a $(BUILD)/libecrmock.a | $(BUILD)/tests
	@echo "  CC $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(MHD_CFLAGS) -Itests/unit $< -o $@ $(TEST_HELPER_LIB) $(BUILD)/libecrmock_server.a $(BUILD)/libecrmock.a \
	    $(LDFLAGS) $(LIBS) $(MHD_LIBS) $(TEST_LIBS)

# build/<name>.pc points at the build tree; `make install` writes them for PREFIX.
PC_SED = -e 's|@VERSION@|$(VERSION)|' -e 's|@CURL_WRAP@|$(CURL_WRAP)|'
$(BUILD)/%.pc: %.pc.in include/ecrmock.h Makefile | $(BUILD)
	@echo "  PC $@"
	$(Q)sed -e 's|@PREFIX@|$(CURDIR)|' $(PC_SED) -e 's|/lib$$|/$(BUILD)|' $< > $@

$(BUILD)/test-helpers/%.o: tests/unit/%.c tests/unit/*.h $(PUBLIC_HDRS) \
    | $(BUILD)/test-helpers
	@echo "  CC $@"
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit -c $< -o $@

$(TEST_HELPER_LIB): $(TEST_HELPERS:tests/unit/%.c=$(BUILD)/test-helpers/%.o)
	@echo "  AR $@"
	$(Q)ar rcs $@ $^

# The generated fixture checks alone, for tests/checks/fixture_schema_diff.py.
$(BUILD)/fixture-schema-check: tests/checks/fixture_schema_check.c $(BUILD)/libecrmock.a
	@echo "  CC $@"
	$(Q)$(CC) $(ALL_CFLAGS) $< -o $@ $(BUILD)/libecrmock.a $(LDFLAGS) $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/*.h $(TEST_HELPER_LIB) $(BUILD)/libecrmock.a | $(BUILD)/tests
	@echo "  CC $@"
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit $< -o $@ $(TEST_HELPER_LIB) $(BUILD)/libecrmock.a $(LDFLAGS) $(TEST_LDFLAGS) $(LIBS) $(TEST_LIBS)

# The allocation-failure test keeps jansson's decoder and encoder out of its failures (see the test).
$(BUILD)/tests/test_alloc_failure: TEST_LDFLAGS = -Wl,--wrap=json_loadb,--wrap=json_loads,--wrap=json_load_file,--wrap=json_loadf \
    -Wl,--wrap=json_dumps,--wrap=json_dump_callback

$(BUILD)/examples/%: examples/%.c $(BUILD)/libecrmock.a | $(BUILD)/examples
	@echo "  CC $@"
	$(Q)$(CC) $(ALL_CFLAGS) $< -o $@ $(BUILD)/libecrmock.a $(LIBS)

$(BUILD)/ecrmock-run: tools/ecrmock-run.c $(BUILD)/libecrmock.a | $(BUILD)
	@echo "  CC $@"
	$(Q)$(CC) $(ALL_CFLAGS) $< -o $@ $(BUILD)/libecrmock.a $(LDFLAGS) $(LIBS)

# Fuzz targets replayed over their committed corpora, with the ordinary compiler.
$(BUILD)/fuzz-replay/%: tests/fuzz/%.c tests/fuzz/replay_main.c $(BUILD)/libecrmock.a | $(BUILD)/fuzz-replay
	@echo "  CC $@"
	$(Q)$(CC) $(ALL_CFLAGS) $< tests/fuzz/replay_main.c -o $@ $(BUILD)/libecrmock.a $(LDFLAGS) $(LIBS)

$(BUILD) $(BUILD)/obj $(BUILD)/obj/server $(BUILD)/obj/curl $(BUILD)/tests $(BUILD)/test-helpers $(BUILD)/examples \
    $(BUILD)/fuzz-replay:
	mkdir -p $@

demo: all $(BUILD)/examples/push_pull
	./$(BUILD)/examples/push_pull

# Every test binary runs; the target fails if any of them fails.  cmocka
# prints its summary on stderr: the streams are merged.
test: all $(TEST_BINS) $(EXAMPLE_BINS) $(REPLAY_BINS) $(BUILD)/fixture-schema-check $(BUILD)/bench
	@fail=0; for t in $(TEST_BINS); do \
	    $(RUNNER) ./$$t 2>&1 || fail=1; \
	done; \
	for f in $(FUZZ_TARGETS); do \
	    $(RUNNER) ./$(BUILD)/fuzz-replay/$$f tests/fuzz/corpus/$${f#fuzz_} || fail=1; \
	done; \
	for e in $(EXAMPLE_BINS); do \
	    $(RUNNER) ./$$e >/dev/null 2>&1 || { echo "example $$e failed"; fail=1; }; \
	done; \
	$(MAKE) -s check-headers || fail=1; \
	$(RUNNER) ./$(BUILD)/ecrmock-run -q fixtures/scenarios/*.json 2>&1 || fail=1; \
	sh tests/checks/check-exports.sh $(BUILD)/libecrmock.so || fail=1; \
	sh tests/checks/check-readme-api.sh || fail=1; \
	sh tests/checks/check-fixture-schema.sh $(BUILD) || fail=1; \
	sh tests/checks/check-core-deps.sh $(BUILD) || fail=1; \
	sh tests/checks/check-layers.sh $(BUILD) || fail=1; \
	sh tests/checks/check-server-options.sh $(BUILD) || fail=1; \
	if [ "$(BUILD)" = build ]; then sh tests/checks/check-install.sh || fail=1; fi; \
	if $(E2E_PYTHON) -c 'import botocore' 2>/dev/null; then \
	    $(E2E_PYTHON) tests/e2e/e2e_botocore.py ./$(BUILD)/ecrmock-server || fail=1; \
	    $(E2E_PYTHON) tests/e2e/e2e_control.py ./$(BUILD)/ecrmock-server || fail=1; \
	else echo "e2e_botocore, e2e_control: SKIPPED: python3-botocore is not installed (apt-get install python3-botocore)"; fi; \
	$(E2E_PYTHON) tests/e2e/e2e_registry.py ./$(BUILD)/ecrmock-server || fail=1; \
	$(E2E_PYTHON) tests/e2e/e2e_skopeo.py ./$(BUILD)/ecrmock-server || fail=1; \
	$(E2E_PYTHON) tests/e2e/e2e_https.py ./$(BUILD)/ecrmock-server || fail=1; \
	$(E2E_PYTHON) tests/e2e/e2e_credential_helper.py ./$(BUILD)/ecrmock-server || fail=1; \
	if [ $$fail = 0 ]; then echo "ecrmock: all tests passed"; else echo "ecrmock: TESTS FAILED"; fi; \
	exit $$fail

asan:
	$(MAKE) BUILD=build/asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	    LDFLAGS="-fsanitize=address,undefined" test

valgrind: all $(TEST_BINS)
	$(MAKE) RUNNER="valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible" test

# The end-to-end test runs Debian's python3 (another python3 may come first in PATH).
E2E_PYTHON ?= /usr/bin/python3

# The shipped fixtures and scenarios against their JSON Schemas (python3-jsonschema).
PYTHON ?= python3
check-schemas:
	$(PYTHON) tools/check_schemas.py

# libFuzzer: the library and the targets built with clang and ASan + UBSan;
# seeds from tests/fuzz/make_corpus (the suite's flows over the shipped
# fixtures) and the committed corpora, and tests/fuzz/<target>.dict when there
# is one (int64 edges, exponents); a crash is saved in build/fuzz and must
# become a file of tests/fuzz/corpus/<target>/ (a regression `make test` replays).
FUZZ_SECONDS ?= 60
FUZZ_FLAGS = -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
fuzz: all $(BUILD)/fuzz-corpus/make_corpus
	@sh tools/deps.sh clang libclang-rt-14-dev
	$(MAKE) BUILD=build/fuzz CC=clang CFLAGS="$(FUZZ_FLAGS)" build/fuzz/libecrmock.a
	./$(BUILD)/fuzz-corpus/make_corpus build/fuzz/seeds $(FIXTURES)
	@set -e; for f in $(FUZZ_TARGETS); do \
	    clang $(WARN) $(FUZZ_FLAGS) -fsanitize=fuzzer -Iinclude -Isrc tests/fuzz/$$f.c -o build/fuzz/$$f \
	        build/fuzz/libecrmock.a $(LIBS); \
	    mkdir -p build/fuzz/work/$$f build/fuzz/seeds/$${f#fuzz_}; \
	    echo "== $$f for $(FUZZ_SECONDS) s"; \
	    dict=tests/fuzz/$${f#fuzz_}.dict; [ -f $$dict ] && dict=-dict=$$dict || dict=; \
	    ./build/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -timeout=20 $$dict \
	        -artifact_prefix=build/fuzz/$$f- build/fuzz/work/$$f tests/fuzz/corpus/$${f#fuzz_} \
	        build/fuzz/seeds/$${f#fuzz_} > build/fuzz/$$f.log 2>&1 \
	        || { tail -n 40 build/fuzz/$$f.log; exit 1; }; \
	    tail -n 2 build/fuzz/$$f.log; \
	done

$(BUILD)/fuzz-corpus/make_corpus: tests/fuzz/make_corpus.c $(BUILD)/libecrmock.a
	@mkdir -p $(@D)
	@echo "  CC $@"
	$(Q)$(CC) $(ALL_CFLAGS) $< -o $@ $(BUILD)/libecrmock.a $(LIBS)

# The tests that run threads, built with ThreadSanitizer; any report fails
# but those tests/tsan.supp leaves out (libcrypto's own, uninstrumented).
TSAN_TESTS := test_stress test_instance test_faults test_server test_http test_registry_v2 test_server_tls test_fixtures
tsan:
	$(MAKE) BUILD=build/tsan CFLAGS="-O1 -g -fsanitize=thread" LDFLAGS="-fsanitize=thread" \
	    $(TSAN_TESTS:%=build/tsan/tests/%)
	@set -e; for t in $(TSAN_TESTS); do \
	    TSAN_OPTIONS="halt_on_error=1 exitcode=66 suppressions=$(CURDIR)/tests/tsan.supp" ./build/tsan/tests/$$t 2>&1; done

# The bench program is built by `make test` too (not run), so that a change
# that breaks it is seen at once.
$(BUILD)/bench: bench/bench.c $(BUILD)/libecrmock_server.a $(BUILD)/libecrmock.a
	@echo "  CC $@"
	$(Q)$(CC) $(WARN) $(CFLAGS) -Iinclude -Isrc bench/bench.c -o $@ $(LDFLAGS) $(BUILD)/libecrmock_server.a \
	    $(BUILD)/libecrmock.a $(LIBS) $(MHD_LIBS)

bench: all $(BUILD)/bench
	ECRMOCK_SERVER=./$(BUILD)/ecrmock-server ./$(BUILD)/bench $(BENCH)

check-exports: $(BUILD)/libecrmock.so
	sh tests/checks/check-exports.sh $<

# Each header of <ecrmock.h>'s tree compiles alone, first in a file or after
# <ecrmock.h>, as C (pedantic) and as C++ (when a C++ compiler is there).
CHECKED_HDRS := $(patsubst include/%,%,$(filter include/ecrmock.h include/ecrmock/%,$(PUBLIC_HDRS)))
check-headers:
	@fail=0; jc="$$(pkg-config --cflags jansson 2>/dev/null)"; \
	for h in $(CHECKED_HDRS); do for pre in '' '#include <ecrmock.h>'; do \
	    printf '%s\n#include <%s>\n' "$$pre" $$h | $(CC) $(WARN) -Wpedantic -Iinclude $$jc -fsyntax-only -x c - \
	        || { echo "check-headers: <$$h> after '$$pre' fails as C"; fail=1; }; \
	    if command -v $(CXX) >/dev/null 2>&1; then \
	        printf '%s\n#include <%s>\n' "$$pre" $$h | $(CXX) -Wall -Wextra -Werror -Iinclude $$jc -fsyntax-only -x c++ - \
	            || { echo "check-headers: <$$h> after '$$pre' fails as C++"; fail=1; }; \
	    fi; \
	done; done; \
	[ $$fail = 0 ] && echo "check-headers: $(words $(CHECKED_HDRS)) public headers compile on their own, as C and C++"; \
	exit $$fail

install: all
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -d $(DESTDIR)$(PREFIX)/include/ecrmock/sys
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 644 include/ecrmock.h include/ecrmock_cmocka.h include/ecrmock_server.h include/ecrmock_curl.h \
	    $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(wildcard include/ecrmock/*.h) $(DESTDIR)$(PREFIX)/include/ecrmock/
	install -m 644 $(wildcard include/ecrmock/sys/*.h) $(DESTDIR)$(PREFIX)/include/ecrmock/sys/
	install -m 644 $(BUILD)/libecrmock.a $(BUILD)/libecrmock_server.a $(BUILD)/libecrmock_curl.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libecrmock_curl_preload.so $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/ecrmock-server $(BUILD)/ecrmock-run $(DESTDIR)$(PREFIX)/bin/
	install -m 755 $(BUILD)/libecrmock.so $(DESTDIR)$(PREFIX)/lib/libecrmock.so.0
	ln -sf libecrmock.so.0 $(DESTDIR)$(PREFIX)/lib/libecrmock.so
	for pc in $(PC_FILES); do \
	    sed -e 's|@PREFIX@|$(PREFIX)|' $(PC_SED) $${pc}.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/$$pc || exit 1; \
	done

model:
	python3 tools/gen_model.py $(MODEL) src/core/model_ids.h > src/core/model_gen.c

# The fixture loader's structural checks, generated from the fixture schema.
fixture-schema:
	python3 tools/gen_fixture_checks.py fixtures/fixture.schema.json > src/tooling/fixture_schema_gen.c

clean:
	rm -rf build
