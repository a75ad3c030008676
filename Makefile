# berth: one non-recursive Makefile.
#   make            build everything into build/
#   make check      the whole test suite (unit, integration as root, fuzz corpus replay)
#   make SAN=1 unit unit tests under ASan+UBSan (objects go to build-san/)
#   make lint       banned functions, cppcheck, clang-format check
CC ?= cc
SAN ?= 0
WERROR ?= 1

ifeq ($(SAN),1)
B := build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
OPT := -O1
STATIC :=
else
B ?= build
SANFLAGS :=
OPT := -O2
# the runtime links its libraries statically: no dynamic loader work at every container start
STATIC := -static
endif

CFLAGS_BASE := -std=gnu11 $(OPT) -g -Wall -Wextra -Wno-unused-parameter -Wshadow -Wformat=2 \
	-D_GNU_SOURCE -Ilib -fno-strict-aliasing $(SANFLAGS)
ifeq ($(WERROR),1)
CFLAGS_BASE += -Werror
endif
CFLAGS_ALL := $(CFLAGS_BASE) $(CFLAGS)
# the runtime links only what it needs, statically; the daemon, the client and the tests take
# the rest dynamically
RUNTIME_LIBS := -lseccomp -ljansson -lcap
LIBS := -lhttp_parser -lssl -lcurl -larchive -lsqlite3 -lcrypto -lseccomp -ljansson -lcap -lyajl -lpthread
# the daemon: linked statically, glibc included, so that only the pages it touches are resident
# (idle VmRSS 10.7 -> 3.9 MB, against 4.5 MB with the dynamic libc, libm and loader);
# --gc-sections drops the libarchive formats it never names (xar would need libxml2 and ICU). Its
# HTTP server is lib/http on http_parser and OpenSSL (Debian's libmicrohttpd links GnuTLS, whose
# libraries kept 2.5 MB resident). It needs no NSS: numeric TCP addresses only, /etc/group read
# directly. The ASan build (SAN=1) links the same libraries dynamically.
BERTHD_LIBS := -Wl,--gc-sections -lhttp_parser -larchive -lsqlite3 -lssl -lcrypto -ljansson \
	-lseccomp -lcap -llzma -lzstd -lbz2 -lz -lnettle -llz4 -lpthread -ldl -lm

# the client: the dynamic loader maps only libc and libacl at start. libcurl (only for
# tcp:// hosts) is dlopen()ed (lib/client/curl_dl.h: -lcurl cost ~4 ms per start); jansson and
# the libarchive of `cp` are static (yajl too: ps parses the container list with it as it
# streams in), --gc-sections keeping only the tar code it names (its disk
# code needs libacl, which has no static library: small, libc only).
BERTH_LIBS := -Wl,--gc-sections -Wl,--as-needed -Wl,-Bstatic -larchive -ljansson -l:libyajl_s.a \
	-Wl,-Bdynamic \
	-l:libacl.so.1 -ldl

LIB_SRCS := $(sort $(wildcard lib/*/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/%.o)
HDRS := $(wildcard lib/*/*.h)

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)

DAEMON_BINS := $(if $(wildcard src/berthd/main.c),$(B)/berthd) $(if $(wildcard src/berth/main.c),$(B)/berth)
# the per-container monitor and the --init process: static and small (one of each per container)
HELPER_BINS := $(if $(wildcard src/berth-monitor/main.c),$(B)/berth-monitor) \
	$(if $(wildcard src/berth-init/main.c),$(B)/berth-init)

all: $(B)/berth-runtime $(B)/probe $(B)/recvtty $(B)/specgen $(DAEMON_BINS) $(HELPER_BINS) $(UNIT_BINS)

$(B)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(B)/libberth.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(B)/berth-runtime: $(B)/src/berth-runtime/main.o $(B)/libberth.a
	$(CC) $(CFLAGS_ALL) $(STATIC) -o $@ $^ $(RUNTIME_LIBS) $(LDFLAGS)

$(B)/berth-monitor: $(B)/src/berth-monitor/main.o $(B)/libberth.a
	$(CC) $(CFLAGS_ALL) $(STATIC) -o $@ $^ $(RUNTIME_LIBS) $(LDFLAGS)

$(B)/berth-init: $(B)/src/berth-init/main.o $(B)/libberth.a
	$(CC) $(CFLAGS_ALL) $(STATIC) -o $@ $^ $(LDFLAGS)

# not position-independent: the static libraries' pointer tables need no relocation at start,
# so their pages stay clean and unmapped (idle VmRSS -0.7 MB)
$(B)/berthd: $(B)/src/berthd/main.o $(B)/libberth.a
	@# glibc warns about getaddrinfo/dlopen in static links (berthd's paths do not need NSS)
	$(CC) $(CFLAGS_ALL) $(if $(filter 1,$(SAN)),,-static) -o $@ $^ $(BERTHD_LIBS) $(LDFLAGS) \
		2>$@.ld; st=$$?; grep -v 'statically linked applications requires\|: in function' $@.ld >&2; \
		rm -f $@.ld; exit $$st

$(B)/berth: $(B)/src/berth/main.o $(B)/libberth.a
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(BERTH_LIBS) $(LDFLAGS)

# the container payload for integration tests: static, so any empty rootfs can run it
$(B)/probe: tests/probe/probe.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -static -o $@ $<

$(B)/recvtty: tests/helpers/recvtty.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -o $@ $<

# the spec generator on the command line (tests/integration/test_specgen.sh)
$(B)/specgen: tests/helpers/specgen.c $(B)/libberth.a
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(LIBS) $(LDFLAGS)

$(B)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(B)/libberth.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests/unit -o $@ $< $(B)/libberth.a $(LIBS) $(LDFLAGS)

# libFuzzer targets (clang); `make fuzz-replay` runs the committed corpora once
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=build-fuzz/%)
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=build-fuzz/%.o)
build-fuzz/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	clang -std=gnu11 -O1 -g -D_GNU_SOURCE -Ilib -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<
build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB_OBJS)
	clang -std=gnu11 -O1 -g -D_GNU_SOURCE -Ilib -fsanitize=fuzzer,address,undefined -o $@ $^ $(LIBS)
fuzz: $(FUZZ_BINS)

unit-bins: $(UNIT_BINS)

unit: $(UNIT_BINS)
	@tests/run-unit.sh $(B)

check: all
	@tests/run-all.sh

lint:
	@tests/lint.sh

format:
	clang-format -i $(LIB_SRCS) $(HDRS) src/*/*.c tests/unit/*.c tests/probe/*.c

clean:
	rm -rf build build-san build-fuzz

.PHONY: all unit unit-bins check lint format clean fuzz
.SECONDARY:
