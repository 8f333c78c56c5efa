# Makefile - hospital remote-maintenance bastion.
#
#   make            build every program (-Wall -Wextra -Werror)
#   make deps       install the Debian packages (idempotent)
#   make check      deps, build, unit tests (cmocka), end-to-end tests (pytest),
#                   and check-boot when root
#   make check-unit-pg, check-e2e-pg
#                   the store's unit tests and the end-to-end suite on
#                   PostgreSQL (a private cluster; docs/SCALE-OUT.md)
#   make check-asan the same under AddressSanitizer + UBSan (build-asan/)
#   make check-boot install into a Debian 12 tree booted under systemd
#                   (systemd-nspawn) and check the live units (root)
#   make demo       run the bastion with demo vendors and devices
#   make demo-stop  stop it
#   make demo-ha    the demo as two nodes behind HAProxy on one PostgreSQL
#                   database, in the foreground (Ctrl-C stops it all)
#   make bench      benchmarks against OpenSSH (prints a table)
#   make fuzz       build the libFuzzer targets (fuzz/) with clang + ASan/UBSan
#                   into build-fuzz/, and their seed corpora
#   make check-fuzz a bounded run of every fuzz target over its corpus
#                   (FUZZ_SECONDS each; docs/TESTING.md, "Fuzzing")
#
# Sources are picked up by directory, so adding a file needs no Makefile edit.
# The layers, bottom up: each folder is one static library and uses only the
# folders below it (scripts/check-layers.sh holds them to that; docs/
# ARCHITECTURE.md, "Layers"):
#   base/*.c           -> $(B)/libbase.a     errors, buffers, log, text, UTF-8,
#                                            addresses, tables, hex, JSON, io,
#                                            the event schema, command lines
#   policy/*.c         -> $(B)/libpolicy.a   the policy loader
#   store/*.c          -> $(B)/libstore.a    state store, audit chain
#   proto/*.c          -> $(B)/libproto.a    wire formats: ssh-agent, security
#                                            keys, control socket, monitor pipe
#   recorder/lib/*.c   -> $(B)/librecorder.a the recording format
#   verbs/*.c          -> $(B)/libverbs.a    admin and auditor verbs
#   bastion/*.c        -> $(B)/libbastiond.a (all but bastiond.c) and
#                         $(B)/bastiond
#   recorder/*.c       -> $(B)/<name>         (one program each)
#   ctl/*.c            -> $(B)/bastionctl     (one file per verb)
#   pam/*.c            -> $(B)/pam_bastion.so
#   web/*.c            -> $(B)/bastion-webd   (the web console's daemon: links
#                         proto and base only; web/static + the pinned
#                         web/vendor -> $(B)/web-static/ by `make web`)
#   ship/*.c           -> $(B)/bastion-ship   (sealed recordings to an S3
#                         store; all but main is $(B)/libship.a, which
#                         test_ship links too)
#   notify/*.c         -> $(B)/bastion-notify (links base only; the rest of
#                         notify/ but main is $(B)/libnotify.a, which
#                         test_notify and fuzz_notify link too)
#   tests/unit/test_*.c-> $(B)/tests/test_*   (one cmocka binary each)
#   tests/tools/*.c    -> $(B)/tests/<name>   (helpers the e2e tests run)
#   tests/softsk/*.c   -> $(B)/tests/softsk.so (software security key)
#   fuzz/fuzz_*.c      -> build-fuzz/fuzz_*      (one libFuzzer target each)
#
# $(B)/bastiond-testhooks is bastiond with the test hooks compiled in
# (-DBASTION_TEST_HOOKS: a compromised child, a forbidden system call;
# tests/e2e/test_privsep.py, test_sandbox.py). It is built by `make tests`
# only, sits beside bastion-recorder as bastiond must, and is never
# installed; bastiond itself has no hook, whatever its environment says.

SAN ?= 0
FUZZ ?= 0
FUZZ_CC ?= clang
ifeq ($(FUZZ),1)
# the fuzz build: every object instrumented for libFuzzer, ASan and UBSan
B = build-fuzz
CC = $(FUZZ_CC)
SANFLAGS = -fsanitize=fuzzer-no-link,address,undefined \
	   -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else ifeq ($(SAN),1)
B ?= build-asan
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=undefined
else
B ?= build
SANFLAGS =
endif

CC ?= cc
PYTHON = /usr/bin/python3
PKGS = libssh libuv libfido2 libcbor yaml-0.1 libcrypto libsystemd sqlite3 libzstd libseccomp libarchive libpq libmagic
WARN = -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
       -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
CFLAGS ?= -O2 -g
# the libraries' headers as system headers (-isystem), so that -MMD leaves
# them out of the .d files: `make install` in a tree without the -dev
# packages (the boot test's) then finds nothing to rebuild
PKG_CFLAGS := $(patsubst -I%,-isystem%,$(shell pkg-config --cflags $(PKGS) 2>/dev/null))
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -fstack-protector-strong \
	-fPIC $(WARN) $(CFLAGS) $(SANFLAGS) $(LAYER_INC) \
	$(PKG_CFLAGS)
LDLIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpam -lpthread
LDFLAGS_ALL = $(SANFLAGS) -Wl,-z,relro,-z,now $(LDFLAGS)

# folder:library, top first (the link order)
LAYERS = bastion:bastiond verbs:verbs recorder/lib:recorder proto:proto \
	store:store policy:policy base:base
LAYER_DIRS = $(foreach l,$(LAYERS),$(firstword $(subst :, ,$(l))))
LAYER_INC = $(LAYER_DIRS:%=-I%)
lib_of = $(B)/lib$(word 2,$(subst :, ,$(1))).a
dir_of = $(firstword $(subst :, ,$(1)))
# every library but libbastiond.a, which only bastiond and the tests link
LIBS = $(foreach l,$(filter-out bastion:%,$(LAYERS)),$(call lib_of,$(l)))
lib_src = $(filter-out bastion/bastiond.c,$(wildcard $(1)/*.c))

define layer_lib
$(call lib_of,$(1)): $(patsubst %.c,$(B)/%.o,$(call lib_src,$(call dir_of,$(1))))
	@rm -f $$@
	ar rcs $$@ $$^
endef
$(foreach l,$(LAYERS),$(eval $(call layer_lib,$(l))))

BASTIOND_LIB = $(B)/libbastiond.a
HOOKS_SRC = bastion/privsep.c bastion/sandbox.c
HOOKS_OBJ = $(HOOKS_SRC:%.c=$(B)/hooks/%.o) $(B)/bastion/bastiond.o \
	$(filter-out $(HOOKS_SRC:%.c=$(B)/%.o) $(B)/bastion/bastiond.o, \
	$(patsubst %.c,$(B)/%.o,$(wildcard bastion/*.c)))
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
TOOL_SRC = $(wildcard tests/tools/*.c)
TOOL_BIN = $(TOOL_SRC:tests/tools/%.c=$(B)/tests/%)
SOFTSK_SRC = $(wildcard tests/softsk/*.c)

CTL_SRC = $(wildcard ctl/*.c)
CTL_OBJ = $(CTL_SRC:%.c=$(B)/%.o)
PAM_MOD_SRC = $(wildcard pam/*.c)
# the PAM module's own objects and layers, built without sanitizers (it is
# loaded into sshd and login) into $(B)/pic/
PAM_LAYERS = proto store policy base
PAM_OBJ = $(PAM_MOD_SRC:%.c=$(B)/pic/%.o)
PAM_LIBS = $(PAM_LAYERS:%=$(B)/pic/lib%.a)
RECORDER_PROG_SRC = $(wildcard recorder/*.c)
RECORDER_PROGS = $(RECORDER_PROG_SRC:recorder/%.c=$(B)/%)

WEB_SRC = $(wildcard web/*.c)
WEB_OBJ = $(WEB_SRC:%.c=$(B)/%.o)
WEB_PKGS = libmicrohttpd jansson
WEB_STATIC = $(shell find web/static -type f 2>/dev/null)

# bastion-notify (notify/): the notification helper the monitor runs
# demoted; its library (all of notify/ but main) is linked by its unit test
NOTIFY_SRC = $(filter-out notify/bastion-notify.c,$(wildcard notify/*.c))
NOTIFY_LIB = $(B)/libnotify.a
NOTIFY_LDLIBS = $(shell pkg-config --libs libcrypto libcurl jansson 2>/dev/null)

# bastion-ship (ship/): sealed recordings to an S3 store and back; its
# library (all of ship/ but main) is linked by its unit test
SHIP_SRC = $(filter-out ship/bastion-ship.c,$(wildcard ship/*.c))
SHIP_LIB = $(B)/libship.a
SHIP_LDLIBS = $(shell pkg-config --libs libcurl 2>/dev/null)

PROGS = $(B)/bastiond $(RECORDER_PROGS) $(if $(CTL_SRC),$(B)/bastionctl) \
	$(if $(PAM_MOD_SRC),$(B)/pam_bastion.so) $(B)/bastion-notify \
	$(if $(WEB_SRC),$(B)/bastion-webd) \
	$(B)/bastion-ship

.PHONY: all deps check check-unit check-e2e check-asan check-boot demo \
	check-layers check-unit-pg check-e2e-pg check-web web \
	demo-stop bench fuzz fuzz-targets check-fuzz demo-ha demo-ha-stop \
	clean tests install uninstall

all: $(PROGS)

tests: all $(UNIT_BIN) $(TOOL_BIN) $(B)/tests/softsk.so $(B)/bastiond-testhooks

deps:
	@./scripts/deps.sh
	@./scripts/web-vendor.sh
	@./scripts/s3-vendor.py

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/bastiond: $(B)/bastion/bastiond.o $(BASTIOND_LIB) $(LIBS)
	$(CC) $(LDFLAGS_ALL) -o $@ $< $(BASTIOND_LIB) $(LIBS) $(LDLIBS)

$(B)/hooks/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DBASTION_TEST_HOOKS -MMD -MP -c -o $@ $<

$(B)/bastiond-testhooks: $(HOOKS_OBJ) $(LIBS)
	$(CC) $(LDFLAGS_ALL) -o $@ $(HOOKS_OBJ) $(LIBS) $(LDLIBS)

$(B)/bastionctl: $(CTL_OBJ) $(LIBS)
	$(CC) $(LDFLAGS_ALL) -o $@ $(CTL_OBJ) $(LIBS) $(LDLIBS)

$(NOTIFY_LIB): $(NOTIFY_SRC:%.c=$(B)/%.o)
	@rm -f $@
	ar rcs $@ $^

# only base below it: no policy, state store or SSH in the helper
$(B)/bastion-notify: $(B)/notify/bastion-notify.o $(NOTIFY_LIB) $(B)/libbase.a
	$(CC) $(LDFLAGS_ALL) -o $@ $< $(NOTIFY_LIB) $(B)/libbase.a \
		$(NOTIFY_LDLIBS)
$(SHIP_LIB): $(SHIP_SRC:%.c=$(B)/%.o)
	@rm -f $@
	ar rcs $@ $^

# the policy (recordings: store:), the recording verifier, the audit
# chain, curl's URL check of bastion-notify; no SSH, no PAM in it
$(B)/ship/%.o: ALL_CFLAGS += -Inotify
$(B)/bastion-ship: $(B)/ship/bastion-ship.o $(SHIP_LIB) $(NOTIFY_LIB) $(LIBS)
	$(CC) $(LDFLAGS_ALL) -o $@ $< $(SHIP_LIB) $(NOTIFY_LIB) $(LIBS) \
		$(LDLIBS) $(SHIP_LDLIBS) $(NOTIFY_LDLIBS)

# The web console's daemon links proto and base only (check-layers holds
# web/ to that: no store/ or verbs/ header)
$(WEB_OBJ): ALL_CFLAGS += $(patsubst -I%,-isystem%,$(shell pkg-config --cflags $(WEB_PKGS) 2>/dev/null))
$(B)/bastion-webd: $(WEB_OBJ) $(B)/libproto.a $(B)/libbase.a
	$(CC) $(LDFLAGS_ALL) -o $@ $(WEB_OBJ) $(B)/libproto.a $(B)/libbase.a \
		$(shell pkg-config --libs $(WEB_PKGS) 2>/dev/null) $(LDLIBS)

# The console's static files and the pinned xterm.js (checked against
# web/vendor.lock again, offline) into $(B)/web-static/
web: $(B)/web-static/.stamp
$(B)/web-static/.stamp: $(WEB_STATIC) web/vendor.lock scripts/web-vendor.sh \
		$(wildcard web/vendor/*.tgz)
	@mkdir -p $(B)/web-static
	cp -R web/static/. $(B)/web-static/
	./scripts/web-vendor.sh --check $(B)/web-static/vendor
	@touch $@

# The PAM module is loaded into other programs (sshd, login, bastiond):
# built without sanitizers, from its own sources plus only the layers it
# uses (the linker takes from them only the objects it needs: from proto/
# only sk.o), nothing left undefined, every symbol
# hidden but the pam_sm_* entry points (--exclude-libs, -fvisibility).
PIC_CFLAGS = -std=c11 -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -fstack-protector-strong \
	-fPIC $(WARN) -O2 -g -fvisibility=hidden $(LAYER_INC) \
	$(PKG_CFLAGS)
$(B)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(PIC_CFLAGS) -MMD -MP -c -o $@ $<

define pic_lib
$(B)/pic/lib$(1).a: $(patsubst %.c,$(B)/pic/%.o,$(wildcard $(1)/*.c))
	@rm -f $$@
	ar rcs $$@ $$^
endef
$(foreach l,$(PAM_LAYERS),$(eval $(call pic_lib,$(l))))

$(B)/pam_bastion.so: $(PAM_OBJ) $(PAM_LIBS)
	$(CC) -shared -Wl,-z,relro,-z,now -Wl,--exclude-libs,ALL -Wl,--no-undefined -o $@ \
		$(PAM_OBJ) $(PAM_LIBS) $(LDLIBS)

# The PAM module's helpers (hours, locks) for the unit tests and fuzz
# targets, built like the rest of the tests
$(B)/libpamhelp.a: $(patsubst %.c,$(B)/%.o,$(filter-out pam/pam_bastion.c,$(PAM_MOD_SRC)))
	@rm -f $@
	ar rcs $@ $^

$(B)/%: recorder/%.c $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS_ALL) -o $@ $< $(LIBS) $(LDLIBS)

# unit tests link every layer, libbastiond.a included, and the PAM helpers
$(B)/tests/test_%: tests/unit/test_%.c $(BASTIOND_LIB) $(B)/libpamhelp.a $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ipam -Inotify -Iship -MMD -MP $(LDFLAGS_ALL) -o $@ $< \
		$(TEST_EXTRA) $(BASTIOND_LIB) $(B)/libpamhelp.a $(LIBS) $(LDLIBS) \
		-lcmocka

# the notification helper's unit test and fuzz target link its library too
$(B)/tests/test_notify: $(NOTIFY_LIB)
$(B)/tests/test_notify: TEST_EXTRA = $(NOTIFY_LIB)
$(B)/fuzz_notify: $(NOTIFY_LIB)
$(B)/fuzz_notify: TEST_EXTRA = $(NOTIFY_LIB)
$(B)/fuzz_ship: $(SHIP_LIB) $(NOTIFY_LIB)
$(B)/fuzz_ship: TEST_EXTRA = $(SHIP_LIB) $(NOTIFY_LIB) $(SHIP_LDLIBS)
$(B)/tests/test_ship: $(SHIP_LIB) $(NOTIFY_LIB)
$(B)/tests/test_ship: TEST_EXTRA = $(SHIP_LIB) $(NOTIFY_LIB) $(SHIP_LDLIBS)
$(B)/tests/test_ship_sandbox: $(SHIP_LIB)
$(B)/tests/test_ship_sandbox: TEST_EXTRA = $(SHIP_LIB)

$(B)/tests/%: tests/tools/%.c $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP $(LDFLAGS_ALL) -o $@ $< $(LIBS) $(LDLIBS)

# The software authenticator is loaded into the real ssh, ssh-keygen and
# ssh-agent (which are not sanitised), so it is always built without SAN.
$(B)/tests/softsk.so: $(SOFTSK_SRC) $(wildcard tests/softsk/*.h)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -fPIC -shared $(WARN) -O2 -g \
		-o $@ $(SOFTSK_SRC) -lcrypto

# make check also boots the installed units under systemd when run as root
# (CI); BOOT=0 leaves that out.
BOOT ?= 1
check: deps
	$(MAKE) tests
	$(MAKE) check-unit check-e2e
	$(MAKE) check-unit-pg check-e2e-pg
	$(MAKE) check-web
	$(MAKE) check-fuzz
	@if [ "$(BOOT)" = 1 ] && [ "$$(id -u)" = 0 ]; then \
		$(MAKE) check-boot; \
	else \
		echo "check-boot skipped (needs root; BOOT=$(BOOT))"; \
	fi

check-unit: tests check-layers
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

# The store's unit tests once more on PostgreSQL: one private cluster
# (tests/e2e/harness/pg.py, as an unprivileged user, on a Unix socket), a
# database emptied before each test (tests/unit/store_fixture.h). Skipped,
# saying so, only when the PostgreSQL binaries are not installed.
PG_UNIT = store state store_client store_actor approvals auditckpt nodebeat \
	decl peerwatch audstore
check-unit-pg: tests
	@$(PYTHON) tests/e2e/harness/pg.py run -- sh -c 'set -e; \
		for t in $(PG_UNIT:%=$(abspath $(B))/tests/test_%); do \
		echo "== $$t (postgresql)"; $$t; done'; rc=$$?; \
	if [ $$rc = 77 ]; then echo "check-unit-pg skipped"; \
	else exit $$rc; fi

# The whole end-to-end suite with every bastion on PostgreSQL: the
# conftest starts a private cluster and gives each test's bastion a
# database of its own (BASTION_STORE=postgresql; docs/SCALE-OUT.md)
check-e2e-pg: tests
	BASTION_BUILD=$(abspath $(B)) BASTION_SAN=$(SAN) BASTION_STRICT=1 \
	BASTION_STORE=postgresql \
		$(PYTHON) -m pytest -q -p no:cacheprovider tests/e2e $(PYTEST_ARGS)

# no folder includes a header of a layer above it (Makefile's LAYERS)
check-layers:
	@./scripts/check-layers.sh $(LAYER_DIRS)
	@./scripts/check-layers.sh --only web proto base

# the web console: its daemon over HTTPS and a headless Chromium
# (tests/web; docs/TESTING.md)
check-web: tests web
	BASTION_BUILD=$(abspath $(B)) BASTION_SAN=$(SAN) \
		$(PYTHON) -m pytest -q -p no:cacheprovider tests/web $(PYTEST_ARGS)

check-e2e: tests
	BASTION_BUILD=$(abspath $(B)) BASTION_SAN=$(SAN) BASTION_STRICT=1 \
		$(PYTHON) -m pytest -q -p no:cacheprovider tests/e2e $(PYTEST_ARGS)

# Slow (a debootstrap tree, cached in /var/tmp/bastion-boot) and needs
# root: run once by CI, not again under the sanitizers.
check-boot: deps
	$(MAKE) tests
	BASTION_BUILD=$(abspath $(B)) $(PYTHON) -m pytest -q -p no:cacheprovider \
		tests/boot $(PYTEST_ARGS)

check-asan: deps
	$(MAKE) SAN=1 tests
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:verify_asan_link_order=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(MAKE) SAN=1 check-unit check-e2e

demo: deps
	$(MAKE) tests web
	./scripts/demo.sh start

demo-stop:
	./scripts/demo.sh stop

# docs/SCALE-OUT.md, "Trying it: make demo-ha"
demo-ha: deps
	$(MAKE) tests
	$(PYTHON) scripts/demo_ha.py start

demo-ha-stop:
	$(PYTHON) scripts/demo_ha.py stop

bench: deps
	$(MAKE) tests
	./bench/run.sh

# DESTDIR and PREFIX come through the environment (docs/INSTALL.md)
install: all web
	B=$(B) ./scripts/install.sh

uninstall:
	B=$(B) ./scripts/install.sh --uninstall

# ---- fuzzing: fuzz/README.md, docs/TESTING.md "Fuzzing" ------------------
# Each fuzz/fuzz_NAME.c is one target, linked with the project's libraries
# built in build-fuzz/ (FUZZ=1). Its corpus is build-fuzz/corpus/NAME (seeds
# made by fuzz/mkseeds.c from the project's own encoders and the test data,
# grown by every run) plus fuzz/corpus/NAME (checked in: found crashes).
FUZZ_SRC = $(wildcard fuzz/fuzz_*.c)
FUZZ_NAMES = $(FUZZ_SRC:fuzz/fuzz_%.c=%)
FUZZ_BIN = $(FUZZ_NAMES:%=$(B)/fuzz_%)
FUZZ_SECONDS ?= 6
FUZZ_ARGS ?=

fuzz:
	$(MAKE) FUZZ=1 fuzz-targets

fuzz-targets: $(FUZZ_BIN) $(B)/corpus/.stamp

# (-MMD: some targets compile in a .c file of ctl/)
$(B)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h $(B)/libpamhelp.a $(LIBS)
	@mkdir -p $(B)/fuzz
	$(CC) $(ALL_CFLAGS) -Ifuzz -Ipam -Inotify -Iship -MMD -MP -MF $(B)/fuzz/fuzz_$*.d \
		-fsanitize=fuzzer $(LDFLAGS_ALL) -o $@ $< $(TEST_EXTRA) $(B)/libpamhelp.a \
		$(LIBS) $(LDLIBS)

# The bundle reader is recorder/lib/recbundle.c (in librecorder.a); what
# bastion-verify checks with it (key, signature, recording, audit lines,
# seal witness) is the program itself: its main() is renamed and called by
# the target, so the fuzzer runs the whole path an auditor's laptop does
$(B)/fuzz/bastion-verify.o: recorder/bastion-verify.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -Dmain=bastion_verify_main \
		-c -o $@ $<

$(B)/fuzz_bundle: fuzz/fuzz_bundle.c fuzz/fuzz.h $(B)/fuzz/bastion-verify.o \
		$(LIBS)
	$(CC) $(ALL_CFLAGS) -Ifuzz -fsanitize=fuzzer $(LDFLAGS_ALL) -o $@ $< \
		$(B)/fuzz/bastion-verify.o $(LIBS) $(LDLIBS)

$(B)/fuzz/mkseeds: fuzz/mkseeds.c fuzz/fuzz.h $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ifuzz $(LDFLAGS_ALL) -o $@ $< $(LIBS) $(LDLIBS)

# targets whose only seeds are their checked-in fuzz/corpus/NAME
FUZZ_SEEDS_CHECKED_IN = ckpt proxyproto scp peerchunk
$(B)/corpus/.stamp: $(B)/fuzz/mkseeds $(wildcard policies/*.yaml \
		policies/broken/*.yaml)
	$(B)/fuzz/mkseeds $(B)/corpus \
		$(filter-out $(FUZZ_SEEDS_CHECKED_IN),$(FUZZ_NAMES))
	@mkdir -p $(B)/corpus/policy $(FUZZ_SEEDS_CHECKED_IN:%=$(B)/corpus/%)
	cp policies/*.yaml policies/broken/*.yaml $(B)/corpus/policy/
	@touch $@

# FUZZ_JOBS targets at a time (2: the CI machine's cores); each prints one
# summary line, with its coverage after the seeds and at the end.
FUZZ_JOBS ?= 2
check-fuzz: fuzz
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory -j$(FUZZ_JOBS) \
		$(FUZZ_NAMES:%=fuzz-run-%); \
	echo "check-fuzz: $(words $(FUZZ_NAMES)) targets, $(FUZZ_SECONDS) s" \
		"each, $$(( $$(date +%s) - start )) s"

fuzz-run-%:
	@found=; [ ! -d fuzz/corpus/$* ] || found=fuzz/corpus/$*; \
	if build-fuzz/fuzz_$* -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
		-rss_limit_mb=2048 -close_fd_mask=3 -print_final_stats=1 \
		-artifact_prefix=build-fuzz/ $(FUZZ_ARGS) \
		build-fuzz/corpus/$* $$found >build-fuzz/fuzz_$*.log 2>&1; \
	then \
		printf 'fuzz_%-10s %s\n' $* "$$(sed -nE 's/^#([0-9]+)[[:space:]]+(INITED|DONE)[[:space:]]+cov: ([0-9]+) ft: ([0-9]+) corp: ([0-9]+).*/\2 cov \3 ft \4 corpus \5 runs \1/p' \
			build-fuzz/fuzz_$*.log | tr '\n' ' ')"; \
	else \
		tail -n 60 build-fuzz/fuzz_$*.log; \
		echo "fuzz_$* FAILED: build-fuzz/fuzz_$*.log; the input is" \
			"build-fuzz/crash-*, leak-* or timeout-*"; \
		exit 1; \
	fi

clean:
	rm -rf build build-asan build-fuzz

-include $(wildcard $(B)/*/*.d $(B)/*/*/*.d $(B)/tests/*.d $(B)/hooks/*/*.d \
	$(B)/pic/*/*.d)
