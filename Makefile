# mutls - TLS 1.3 and mutual TLS.
#   make            library (static + shared), the mutls CLI, mutls.pc
#   make demo       install what is missing, build, run the main job on loopback
#   make check      install test peers, build with ASan+UBSan, run every test
#   make fuzz       libFuzzer targets, run for FUZZ_SECONDS each
#   make install    PREFIX=/usr/local DESTDIR=
CC ?= cc
PREFIX ?= /usr/local
DESTDIR ?=
B ?= build
SAN ?= 0
FUZZ_SECONDS ?= 60

VERSION := 0.1.0
SOVER := 0
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) -fvisibility=hidden -fPIC -Iinclude -Isrc $(CFLAGS)
LDLIBS := -lcrypto -lpthread
ifeq ($(SAN),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
SAN_LDFLAGS := -fsanitize=address,undefined
endif

LIB_SRCS := $(sort $(wildcard src/*.c src/*/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/obj/%.o)
CLI_SRCS := $(sort $(wildcard tools/mutls/*.c))
CLI_OBJS := $(CLI_SRCS:%.c=$(B)/obj/%.o)
TEST_SRCS := $(sort $(wildcard tests/unit/test_*.c tests/vectors/test_*.c tests/negative/test_*.c))
TEST_BINS := $(TEST_SRCS:tests/%.c=$(B)/tests/%)
TEST_COMMON := $(sort $(wildcard tests/common/*.c))
TEST_COMMON_OBJS := $(TEST_COMMON:%.c=$(B)/obj/%.o)

STATIC := $(B)/libmutls.a
SHARED := $(B)/libmutls.so.$(SOVER)
CLI := $(B)/mutls

.PHONY: all lib cli tests check demo fuzz fuzz-build install uninstall clean deps-demo deps-check format bench
all: lib cli $(B)/mutls.pc

lib: $(STATIC) $(SHARED)
cli: $(CLI)
tests: $(TEST_BINS) $(CLI)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(STATIC): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(SHARED): $(LIB_OBJS)
	$(CC) -shared -Wl,-soname,libmutls.so.$(SOVER) $(SAN_LDFLAGS) -o $@ $^ $(LDLIBS)
	ln -sf libmutls.so.$(SOVER) $(B)/libmutls.so

$(CLI): $(CLI_OBJS) $(STATIC)
	$(CC) $(SAN_LDFLAGS) -o $@ $(CLI_OBJS) $(STATIC) $(LDLIBS)

# Test objects and headers: keep the objects (not intermediates), rebuild on
# any shared test header.
.SECONDARY: $(TEST_COMMON_OBJS)
TEST_HEADERS := $(wildcard tests/common/*.h tests/*/*.h)

$(B)/tests/%: tests/%.c $(STATIC) $(TEST_COMMON_OBJS) $(TEST_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests -o $@ $< $(TEST_COMMON_OBJS) $(STATIC) $(SAN_LDFLAGS) $(LDLIBS)

$(B)/mutls.pc: mutls.pc.in
	@mkdir -p $(B)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

deps-demo:
	@scripts/deps.sh demo
deps-check:
	@scripts/deps.sh check

demo: deps-demo
	$(MAKE) all
	scripts/demo.sh $(B)

check: deps-check
	$(MAKE) B=build-san SAN=1 CC=$(CC) tests
	tests/run.sh build-san

fuzz-build:
	$(MAKE) -f tests/fuzz/fuzz.mk

fuzz: fuzz-build
	tests/fuzz/run.sh $(FUZZ_SECONDS)

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 include/mutls.h include/mutls_ca.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(STATIC) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(SHARED) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libmutls.so.$(SOVER) $(DESTDIR)$(PREFIX)/lib/libmutls.so
	install -m 755 $(CLI) $(DESTDIR)$(PREFIX)/bin/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' mutls.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/mutls.pc

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/include/mutls.h $(DESTDIR)$(PREFIX)/include/mutls_ca.h \
	  $(DESTDIR)$(PREFIX)/lib/libmutls.* \
	  $(DESTDIR)$(PREFIX)/bin/mutls $(DESTDIR)$(PREFIX)/lib/pkgconfig/mutls.pc

# mutls beside OpenSSL libssl (bench/): builds and runs the full benchmark.
# BENCH_ARGS=--quick make bench for a smoke run. Never part of make check.
BENCH_SRCS := $(sort $(wildcard bench/*.c))
BENCH_OBJS := $(BENCH_SRCS:%.c=$(B)/obj/%.o)
BENCH := $(B)/mutls-bench
BENCH_ARGS ?=

$(BENCH): $(BENCH_OBJS) $(STATIC)
	$(CC) $(SAN_LDFLAGS) -o $@ $(BENCH_OBJS) $(STATIC) -lssl -lcrypto -lpthread

bench: $(BENCH)
	$(BENCH) $(BENCH_ARGS)

# tests/cli/bench.sh runs a smoke pass of it through `mutls bench`.
tests: $(BENCH)

-include $(BENCH_OBJS:.o=.d)

format:
	clang-format -i $(LIB_SRCS) $(wildcard src/*.h src/*/*.h include/*.h) $(CLI_SRCS)

clean:
	rm -rf build build-san build-fuzz

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d)
